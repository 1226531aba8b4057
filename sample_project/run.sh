#!/usr/bin/env bash
# The sample review end to end, as a review team would run it from the terminal.
# Re-creates sample_project/review.db from scratch each time.
set -euo pipefail
cd "$(dirname "$0")"
rm -f review.db review.db-wal review.db-shm review.db.bak-*
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

rt status
rt audit verify
