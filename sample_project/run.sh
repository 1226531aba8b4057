#!/usr/bin/env bash
# The sample review end to end, as a review team would run it from the terminal.
# Re-creates sample_project/review.db from scratch each time.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf review.db review.db-wal review.db-shm review.db.bak-* analysis report
export REVIEWTOOL_DB=review.db
rt() { python3 -m reviewtool "$@"; }

# The review team (the seed paper's screeners YL and YD; JN resolves disagreements).
rt init --title "MSC therapy in ACLF and chronic liver disease (Liu et al. 2022 re-created)" \
  --question-file question.md --as jniu
rt member add yliu --role reviewer --as jniu
rt member add ydong --role reviewer --as jniu
rt member grant jniu --role adjudicator --as jniu
rt settings set screening.reviewers_required 2 --as jniu
rt settings set analysis.model auto --as jniu

# Identification: the four database exports (made by make_exports.py; see README.md here).
rt import exports/pubmed.nbib --source "MEDLINE (PubMed)" --searched 2021-09-15 \
  --query "mesenchymal stem cells AND liver disease (see paper.md)" --as yliu
rt import exports/embase.ris --source "Ovid EMBASE" --searched 2021-09-15 --as yliu
rt import exports/wos.txt --source "Web of Science" --searched 2021-09-15 --as yliu
rt import exports/cochrane.ris --source "Cochrane Library" --searched 2021-09-15 --as yliu

# Deduplication: automatic merges, then the uncertain pairs as a person decided them.
rt dedup run --as yliu
rt dedup import-decisions dedup_decisions.csv --as yliu
rt dedup report --as jniu

# Removed before screening (the seed's publication-type limits: PRISMA's "records removed for other
# reasons"): by publication type, by title words, and by a list for case reports indexed as articles.
rt screen remove --reason "meeting abstract" --publication-type "Conference Abstract" \
  --publication-type "Conference proceeding" --publication-type "Meeting Abstract" --as jniu
rt screen remove --reason "review or meta-analysis" --publication-type "Review" \
  --publication-type "Meta-Analysis" --as jniu
rt screen remove --reason "case report or letter" --publication-type "Case Reports" \
  --publication-type "Letter" --as jniu
rt screen remove --reason "case report or letter" --file screening/removed_case_reports.csv --as jniu
rt screen remove --reason "animal study" --title-word rat --title-word rats --title-word mice \
  --title-word mouse --title-word pig --title-word pigs --title-word porcine --title-word canine \
  --title-word dog --title-word dogs --as jniu

# Screening: two reviewers vote blind (files of their votes), the adjudicator resolves the conflicts.
rt screen import-decisions screening/tiab_yliu.csv --stage tiab --as yliu
rt screen import-decisions screening/tiab_ydong.csv --stage tiab --as ydong
rt screen import-resolutions screening/tiab_resolutions.csv --stage tiab --as jniu
# Title/abstract is done: the owner ends blinding there, so full text opens to the reviewers.
rt screen unblind --stage tiab --as jniu
rt screen import-decisions screening/fulltext_yliu.csv --stage fulltext --as yliu
rt screen import-decisions screening/fulltext_ydong.csv --stage fulltext --as ydong
rt screen import-resolutions screening/fulltext_resolutions.csv --stage fulltext --as jniu
rt screen unblind --stage fulltext --as jniu
rt screen stats --as jniu
# Studies: each reference included at full text is one (link a follow-up report with `study link`);
# the PRISMA 2020 counts come from records, references, reports and studies.
rt study list --as jniu
rt prisma --as jniu

# Risk of bias (RoB 1, as the seed graded its trials in RevMan 5.3): the two assessors' judgements in
# robvis's layout (ILLUSTRATIVE, see README.md), imported blind; the adjudicator lists the
# disagreements, records the domains they judged alike as consensus and decides the rest. The
# overall rating uses the count rule behind the paper's "3 high / 7 moderate / 2 low quality".
rt rob rule count_unmet --as jniu
rt rob import rob/assessor_yliu.csv --as yliu
rt rob import rob/assessor_ydong.csv --as ydong
rt rob compare --as jniu
rt rob agree --as jniu
rt rob resolve "Salama 2014" A Unclear --support "Comment: 'randomly divided', method not described." --as jniu
rt rob resolve "Schacher 2021" C Unclear --support "Comment: open label; effect on laboratory outcomes unclear." --as jniu
rt rob resolve "Xu 2019" D Unclear --support "Comment: assessors' blinding not reported." --as jniu
rt rob resolve "Peng 2011" E High --support "Comment: losses to follow-up, unbalanced, no ITT." --as jniu
rt rob resolve "Mohamadnejad 2013" G Unclear --support "Comment: stopped early for futility." --as jniu
rt rob status --as jniu
rt rob export -f csv --out rob/consensus.csv --as jniu
rt rob plot --out rob/plots --as jniu

# Data extraction (dual, blind): the seed's form; each extractor's values (Table 1's real values
# plus the ILLUSTRATIVE per-arm outcome values of outcomes.csv, with a few made-up slips; see
# README.md and make_extraction.py). Identical values become consensus at once; the adjudicator
# lists the disagreements, takes the right extractor's value or enters the value.
rt extract form add extraction/form.toml --as jniu
rt extract import extraction/values_yliu.csv --as yliu
rt extract import extraction/values_ydong.csv --as ydong
rt extract compare --as jniu
rt extract agree "Xu 2019" mean --arm MSC --outcome meld --time "12 weeks" --take yliu --as jniu
rt extract resolve "Lin 2017" sd 4.4 --arm control --outcome alb --time "2 weeks" \
  --source "ILLUSTRATIVE value (sample_project/make_outcomes.py), not the trial's data" --as jniu
rt extract agree "Peng 2011" events --arm MSC --outcome survival --time "24 weeks" --take ydong --as jniu
rt extract agree "Zhang 2012" median_age --arm control --take yliu --as jniu
rt extract status --as jniu
rt extract export --characteristics --out extraction/characteristics.csv --as jniu

# Synthesis: every outcome x time point pooled with the seed's model rule, subgroups, leave-one-out,
# Egger/Begg; tables (CSV, Markdown, XLSX) and forest/funnel plots go to sample_project/analysis/.
# outcomes.csv holds ILLUSTRATIVE values (see README.md here): the paper's per-study data are not public.
rt analyze run --from-extraction --name "Liu 2022 outcomes" --by liver_disease --by cell_type \
  --by administration_route --by times_of_treatment --loo --bias --out analysis --as yliu

# The PRISMA 2020 flow (after the analysis, so its box of studies in the meta-analysis is filled),
# then the report folder: the diagram (SVG, PNG, PRISMA2020 R package CSV), every table (CSV,
# Markdown, XLSX), the figures and one self-contained report/index.html.
rt report prisma --as jniu
rt report build report --as jniu

rt status --as jniu
rt audit verify --as jniu
