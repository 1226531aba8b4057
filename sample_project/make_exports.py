"""Make the sample review's search exports (deterministic, stdlib only).

Re-creates the search of the seed review (Liu et al., Stem Cell Res Ther 2022: MSC therapy in
chronic liver disease): 892 records from four databases, 288 of them duplicates, 604 unique
publications. Writes, into ``sample_project/exports/`` (or the directory given as argument):

- ``pubmed.nbib``   PubMed/MEDLINE format
- ``embase.ris``    Embase RIS (layout of the embase.com export in the shared fixtures)
- ``wos.txt``       Web of Science plain text (FN/VR header ... ER / EF)
- ``cochrane.ris``  Cochrane Library (CENTRAL) RIS
- ``truth.csv``     one row per record: file, source_id, publication_id, category
- ``hard_cases.csv`` the deliberate look-alike publications that are NOT duplicates

Only the bibliographic data of the 12 included trials and the PRISMA counts are real (see
README.md); everything else is made up. Run: ``python sample_project/make_exports.py [OUTDIR]``.
"""

from __future__ import annotations

import csv
import io
import random
import sys
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SEED = 20210915  # the seed review's search date
SEARCH_DATE = "2021-09-15"

FILES = {
    "P": "pubmed.nbib",
    "E": "embase.ris",
    "W": "wos.txt",
    "C": "cochrane.ris",
}
DB_ORDER = "PEWC"

CATEGORIES = (
    "included",
    "fulltext_excluded_insufficient_data",
    "fulltext_excluded_not_rct",
    "animal",
    "case_report_letter",
    "review_meta_analysis",
    "meeting_abstract",
    "tiab_excluded",
)

# Which databases hold each publication: pattern -> number of publications, per category.
# Totals: 604 publications, 892 records (P 251, E 338, W 231, C 72), 288 duplicates.
PATTERNS: dict[str, dict[str, int]] = {
    "included": {"PEWC": 10, "PEW": 1, "PEC": 1},
    "fulltext_excluded_insufficient_data": {"PEWC": 2, "PEW": 3, "PEC": 2, "PE": 2, "EC": 1},
    "fulltext_excluded_not_rct": {"PEWC": 1, "PEW": 4, "PE": 3, "E": 2, "EW": 1, "C": 1},
    "animal": {"PEW": 20, "PE": 24, "PW": 8, "EW": 8, "P": 42, "E": 34, "W": 40},
    "case_report_letter": {"PEW": 1, "PE": 2, "E": 3, "W": 1, "P": 1},
    "review_meta_analysis": {"PEW": 8, "PE": 8, "PW": 2, "EW": 3, "P": 12, "E": 18, "W": 16},
    "meeting_abstract": {"E": 52, "EW": 8, "EC": 13, "C": 3, "W": 4, "EWC": 1},
    "tiab_excluded": {
        "PEWC": 4,
        "PEW": 10,
        "PEC": 6,
        "PE": 16,
        "PW": 7,
        "EW": 6,
        "EC": 10,
        "WC": 1,
        "P": 51,
        "E": 50,
        "W": 61,
        "C": 16,
    },
}
EXPECTED = {"records": 892, "publications": 604, "duplicates": 288}
EXPECTED_PER_FILE = {"P": 251, "E": 338, "W": 231, "C": 72}

# The 12 included trials, copied verbatim from ../shared/seed/included_studies.csv and
# table1_characteristics.csv (Liu et al. 2022, CC BY 4.0) so that the script is self-contained.
INCLUDED_STUDIES_CSV = """\
ref,authors,title,journal,year,volume,issue,pages,doi
8,Zhang Z; Lin H; Shi M; Xu R; Fu J; Lv J; Chen L; Lv S; Li Y; Yu S,Human umbilical cord mesenchymal stem cells improve liver function and ascites in decompensated liver cirrhosis patients,J Gastroenterol Hepatol,2012,27,,112-120,
9,Salama H; Zekri A-RN; Medhat E; Al Alim SA; Ahmed OS; Bahnassy AA; Lotfy MM; Ahmed R; Musa S,Peripheral vein infusion of autologous mesenchymal stem cells in Egyptian HCV-positive patients with end-stage liver disease,Stem Cell Res Ther,2014,8,,1-12,
10,Lin BL; Chen JF; Qiu WH; Wang KW; Xie DY; Chen XY; Liu QL; Peng L; Li JG; Mei YY,Allogeneic bone marrow-derived mesenchymal stromal cells for hepatitis B virus-related acute-on-chronic liver failure: a randomized controlled trial,Hepatology,2017,66,1,209-219,
11,Peng L; Xie DY; Lin BL; Liu J; Zhu HP; Xie C; Zheng YB; Gao ZL,Autologous bone marrow mesenchymal stem cell transplantation in liver failure patients caused by hepatitis B: short-term and long-term outcomes,Hepatology,2011,54,3,820-828,
19,Xu WX; He HL; Pan SW; Chen YL; Zhang ML; Zhu S; Gao ZL; Peng L; Li JG,Combination treatments of plasma exchange and umbilical cord-derived mesenchymal stem cell transplantation for patients with Hepatitis B Virus-related acute-on-chronic liver failure: a clinical trial in China,Stem Cells Int,2019,2019,,4130757,
21,El-Ansary M; Abdel-Aziz I; Mogawer S; Abdel-Hamid S; Hammam O; Teaema S; Wahdan M,Phase II trial: undifferentiated versus differentiated autologous mesenchymal stem cells transplantation in Egyptian patients with HCV induced liver cirrhosis,Stem Cell Rev Rep,2012,8,3,972-981,
22,Shi M; Zhang Z; Xu R; Lin H; Fu J; Zou Z; Zhang A; Shia J; Chen L; Lv S,Human mesenchymal stem cell transfusion is safe and improves liver function in acute-on-chronic liver failure patients,Stem Cells Transl Med,2012,1,10,725-731,
23,Mohamadnejad M; Alimoghaddam K; Bagheri M; Ashrafi M; Abdollahzadeh L; Akhlaghpour S; Bashtar M; Ghavamzadeh A; Malekzadeh R,Randomized placebo-controlled trial of mesenchymal stem cell transplantation in decompensated cirrhosis,Liver Int,2013,33,10,1490-1496,
24,Xu L; Gong Y; Wang B; Shi K; Hou Y; Wang L; Lin Z; Han Y; Lu L; Chen D,Randomized trial of autologous bone marrow mesenchymal stem cells transplantation for hepatitis B virus cirrhosis: regulation of Treg/Th17 cells,J Gastroenterol Hepatol,2014,29,8,1620-1628,
25,Suk KT; Yoon J-H; Kim MY; Kim CW; Kim JK; Park H; Hwang SG; Kim DJ; Lee BS; Lee SH,Transplantation with autologous bone marrow-derived mesenchymal stem cells for alcoholic cirrhosis: phase 2 trial,Hepatology,2016,64,6,2185-2197,
26,Schacher FC; da Silva AMP; Silla LMD; Alvares-da-Silva MR,Bone marrow mesenchymal stem cells in acute-on-chronic liver failure grades 2 and 3: a phase I-II randomized clinical trial,Can J Gastroenterol Hepatol,2021,2021,,3662776,10.1155/2021/3662776
27,Shi M; Li Y-Y; Xu R-N; Meng F-P; Yu S-J; Fu J-L; Hu J-H; Li J-X; Wang L-F; Jin L,Mesenchymal stem cell therapy in decompensated liver cirrhosis: a long-term follow-up analysis of the randomized controlled clinical trial,Hepatol Int,2021,15,,1431-1441,
"""

TABLE1_CSV = """\
year,first_author,ref,country,liver_disease,etiology,cell_type,cell_dosage,times_of_treatment,administration_route,n_exp,n_con,median_age_exp,median_age_con,follow_up,adverse_event
2021,Shi,27,China,Decompensated cirrhosis,HBV,Allogeneic UC-MSCs,1e5/kg,Three,Intravenous injection,108,111,47,48,75 month,Fever
2021,Schacher,26,Brazil,ACLF,"Alcohol, HCV, HBV, NASH",Allogeneic BM-MSCs,1e5/kg,Two,Intravenous injection,4,5,55.8,53.4,90 day,No
2019,Xu,19,China,ACLF,HBV,Allogeneic UC-MSCs,1e5/kg,Four,Intravenous injection,30,30,40.67,44.67,48 week,Fever
2017,Lin,10,China,ACLF,HBV,Allogeneic BM-MSCs,(1.0-10)e5/kg,Four,Intravenous injection,56,54,40,42.8,24 week,Fever
2016,Suk,25,South Korea,Decompensated cirrhosis,Alcohol,Autologous BM-MSCs,5e7/kg,One,Hepatic arterial injection,18,18,53.1,53.7,12 month,Fever
2016,Suk,25,South Korea,Decompensated cirrhosis,Alcohol,Autologous BM-MSCs,6e7/kg,Two,Hepatic arterial injection,19,18,54.4,53.7,12 month,Fever
2014,Xu,24,China,Cirrhosis,HBV,Autologous BM-MSCs,(0.75 +/- 0.5)e6,One,Hepatic arterial injection,20,19,44,45,24 week,Fever
2014,Salama,9,Egypt,Decompensated cirrhosis,HCV,Autologous BM-MSCs,1e6/kg,One,Intravenous injection,20,20,50.27,50.9,6 month,No
2013,Mohamadnejad,23,Iran,Decompensated cirrhosis,"PBC, HBV, HCV, AIH",Autologous BM-MSCs,(1.2-2.95)e8,One,Intravenous injection,14,11,43.1,34.6,12 month,NA
2012,Zhang,8,China,Decompensated cirrhosis,HBV,Allogeneic UC-MSCs,0.5e6/kg,Three,Intravenous injection,30,15,48,47,48 week,No
2012,Shi,22,China,ACLF,HBV,Allogeneic UC-MSCs,0.5e7/kg,Three,Intravenous injection,24,19,40,45,48 week,No
2012,El-Ansary,21,Egypt,Cirrhosis,HCV,Autologous BM-MSCs,1e5/kg,One,Intravenous injection,15,10,48,51.6,6 month,NA
2011,Peng,11,China,ACLF,HBV,Autologous BM-MSCs,(3.4 +/- 3.8)e8,One,Hepatic arterial injection,53,105,42.19,42.2,192 week,No
"""

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# --------------------------------------------------------------------------------------------
# data model


@dataclass
class Author:
    last: str
    initials: str  # "Z", "A-RN", "AMP"
    given: str | None = None  # None: only initials are known (the real trials)


@dataclass
class Journal:
    full: str  # title as printed, e.g. "Journal of Gastroenterology and Hepatology"
    ta: str  # NLM abbreviation, e.g. "J Gastroenterol Hepatol"
    jt: str  # NLM full title, e.g. "Journal of gastroenterology and hepatology"
    j9: str  # WoS 29-character abbreviation
    ji: str  # ISO abbreviation
    issn: str
    publisher: str = "WILEY"
    title_case_wos: bool = False  # WoS shows this journal's titles in Title Case
    chinese: bool = False


@dataclass
class Pub:
    pub_id: str
    category: str
    title: str
    authors: list[Author]
    journal: Journal
    year: int
    volume: str
    issue: str
    spage: str
    epage: str
    doi: str
    abstract: str
    mesh: list[str]
    emtree: list[str]
    pub_types: list[str]
    embase_type: str
    wos_type: str
    month: str = ""
    dbs: str = ""
    country: str = ""
    affiliation: str = ""
    article_number: bool = False
    real: bool = False
    conference: tuple[str, str, str] | None = None  # (name, dates, place)
    note: str = ""
    ids: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# journals (real journal names; the articles in them are made up except the 12 included trials)


def _j(
    full: str,
    ta: str,
    jt: str,
    j9: str,
    ji: str,
    issn: str,
    publisher: str = "WILEY",
    tc: bool = False,
    chinese: bool = False,
) -> Journal:
    return Journal(full, ta, jt, j9, ji, issn, publisher, tc, chinese)


J = {
    "hep": _j(
        "Hepatology",
        "Hepatology",
        "Hepatology (Baltimore, Md.)",
        "HEPATOLOGY",
        "Hepatology",
        "0270-9139",
        tc=True,
    ),
    "jgh": _j(
        "Journal of Gastroenterology and Hepatology",
        "J Gastroenterol Hepatol",
        "Journal of gastroenterology and hepatology",
        "J GASTROEN HEPATOL",
        "J. Gastroenterol. Hepatol.",
        "0815-9319",
        tc=True,
    ),
    "liverint": _j(
        "Liver International",
        "Liver Int",
        "Liver international : official journal of the International Association for the "
        "Study of the Liver",
        "LIVER INT",
        "Liver Int.",
        "1478-3223",
        tc=True,
    ),
    "scrt": _j(
        "Stem Cell Research & Therapy",
        "Stem Cell Res Ther",
        "Stem cell research & therapy",
        "STEM CELL RES THER",
        "Stem Cell Res. Ther.",
        "1757-6512",
        "BMC",
    ),
    "sctm": _j(
        "Stem Cells Translational Medicine",
        "Stem Cells Transl Med",
        "Stem cells translational medicine",
        "STEM CELL TRANSL MED",
        "Stem Cells Transl. Med.",
        "2157-6564",
        tc=True,
    ),
    "scrr": _j(
        "Stem Cell Reviews and Reports",
        "Stem Cell Rev Rep",
        "Stem cell reviews and reports",
        "STEM CELL REV REP",
        "Stem Cell Rev. Rep.",
        "1550-8943",
        "SPRINGER",
    ),
    "sci": _j(
        "Stem Cells International",
        "Stem Cells Int",
        "Stem cells international",
        "STEM CELLS INT",
        "Stem Cells Int.",
        "1687-966X",
        "HINDAWI LTD",
    ),
    "cjgh": _j(
        "Canadian Journal of Gastroenterology and Hepatology",
        "Can J Gastroenterol Hepatol",
        "Canadian journal of gastroenterology & hepatology",
        "CAN J GASTROENTEROL",
        "Can. J. Gastroenterol. Hepatol.",
        "2291-2789",
        "HINDAWI LTD",
    ),
    "hepint": _j(
        "Hepatology International",
        "Hepatol Int",
        "Hepatology international",
        "HEPATOL INT",
        "Hepatol. Int.",
        "1936-0533",
        "SPRINGER",
    ),
    "jhep": _j(
        "Journal of Hepatology",
        "J Hepatol",
        "Journal of hepatology",
        "J HEPATOL",
        "J. Hepatol.",
        "0168-8278",
        "ELSEVIER",
    ),
    "wjg": _j(
        "World Journal of Gastroenterology",
        "World J Gastroenterol",
        "World journal of gastroenterology",
        "WORLD J GASTROENTERO",
        "World J. Gastroenterol.",
        "1007-9327",
        "BAISHIDENG PUBLISHING GROUP INC",
    ),
    "wjsc": _j(
        "World Journal of Stem Cells",
        "World J Stem Cells",
        "World journal of stem cells",
        "WORLD J STEM CELLS",
        "World J. Stem Cells",
        "1948-0210",
        "BAISHIDENG PUBLISHING GROUP INC",
    ),
    "cyto": _j(
        "Cytotherapy",
        "Cytotherapy",
        "Cytotherapy",
        "CYTOTHERAPY",
        "Cytotherapy",
        "1465-3249",
        "ELSEVIER",
    ),
    "celltx": _j(
        "Cell Transplantation",
        "Cell Transplant",
        "Cell transplantation",
        "CELL TRANSPLANT",
        "Cell Transplant.",
        "0963-6897",
        "SAGE PUBLICATIONS INC",
    ),
    "stemcells": _j(
        "Stem Cells",
        "Stem Cells",
        "Stem cells (Dayton, Ohio)",
        "STEM CELLS",
        "Stem Cells",
        "1066-5099",
        tc=True,
    ),
    "scd": _j(
        "Stem Cells and Development",
        "Stem Cells Dev",
        "Stem cells and development",
        "STEM CELLS DEV",
        "Stem Cells Dev.",
        "1547-3287",
        "MARY ANN LIEBERT, INC",
    ),
    "plos": _j(
        "PLoS One",
        "PLoS One",
        "PloS one",
        "PLOS ONE",
        "PLoS One",
        "1932-6203",
        "PUBLIC LIBRARY SCIENCE",
    ),
    "scirep": _j(
        "Scientific Reports",
        "Sci Rep",
        "Scientific reports",
        "SCI REP-UK",
        "Sci Rep",
        "2045-2322",
        "NATURE PORTFOLIO",
    ),
    "lifesci": _j(
        "Life Sciences",
        "Life Sci",
        "Life sciences",
        "LIFE SCI",
        "Life Sci.",
        "0024-3205",
        "PERGAMON-ELSEVIER SCIENCE LTD",
    ),
    "biomedph": _j(
        "Biomedicine & Pharmacotherapy",
        "Biomed Pharmacother",
        "Biomedicine & pharmacotherapy = Biomedecine & pharmacotherapie",
        "BIOMED PHARMACOTHER",
        "Biomed. Pharmacother.",
        "0753-3322",
        "ELSEVIER FRANCE-EDITIONS SCIENTIFIQUES MEDICALES ELSEVIER",
    ),
    "ijms": _j(
        "International Journal of Molecular Sciences",
        "Int J Mol Sci",
        "International journal of molecular sciences",
        "INT J MOL SCI",
        "Int. J. Mol. Sci.",
        "1422-0067",
        "MDPI",
    ),
    "cells": _j("Cells", "Cells", "Cells", "CELLS-BASEL", "Cells", "2073-4409", "MDPI"),
    "expcell": _j(
        "Experimental Cell Research",
        "Exp Cell Res",
        "Experimental cell research",
        "EXP CELL RES",
        "Exp. Cell Res.",
        "0014-4827",
        "ELSEVIER INC",
    ),
    "mmr": _j(
        "Molecular Medicine Reports",
        "Mol Med Rep",
        "Molecular medicine reports",
        "MOL MED REP",
        "Mol. Med. Rep.",
        "1791-2997",
        "SPANDIDOS PUBL LTD",
    ),
    "medicine": _j(
        "Medicine",
        "Medicine (Baltimore)",
        "Medicine",
        "MEDICINE",
        "Medicine (Baltimore)",
        "0025-7974",
        "LIPPINCOTT WILLIAMS & WILKINS",
    ),
    "trials": _j("Trials", "Trials", "Trials", "TRIALS", "Trials", "1745-6215", "BMC"),
    "bmjopen": _j(
        "BMJ Open",
        "BMJ Open",
        "BMJ open",
        "BMJ OPEN-UK",
        "BMJ Open",
        "2044-6055",
        "BMJ PUBLISHING GROUP",
    ),
    "apt": _j(
        "Alimentary Pharmacology & Therapeutics",
        "Aliment Pharmacol Ther",
        "Alimentary pharmacology & therapeutics",
        "ALIMENT PHARM THER",
        "Aliment. Pharmacol. Ther.",
        "0269-2813",
        tc=True,
    ),
    "dds": _j(
        "Digestive Diseases and Sciences",
        "Dig Dis Sci",
        "Digestive diseases and sciences",
        "DIGEST DIS SCI",
        "Dig. Dis. Sci.",
        "0163-2116",
        "SPRINGER",
    ),
    "gutliver": _j(
        "Gut and Liver",
        "Gut Liver",
        "Gut and liver",
        "GUT LIVER",
        "Gut Liver",
        "1976-2283",
        "EDITORIAL OFFICE GUT & LIVER",
    ),
    "clinmolhep": _j(
        "Clinical and Molecular Hepatology",
        "Clin Mol Hepatol",
        "Clinical and molecular hepatology",
        "CLIN MOL HEPATOL",
        "Clin. Mol. Hepatol.",
        "2287-2728",
        "KOREAN ASSOC STUDY LIVER",
    ),
    "jtm": _j(
        "Journal of Translational Medicine",
        "J Transl Med",
        "Journal of translational medicine",
        "J TRANSL MED",
        "J. Transl. Med.",
        "1479-5876",
        "BMC",
    ),
    "arch_iran": _j(
        "Archives of Iranian Medicine",
        "Arch Iran Med",
        "Archives of Iranian medicine",
        "ARCH IRAN MED",
        "Arch. Iran. Med.",
        "1029-2977",
        "ACAD MEDICAL SCIENCES I R IRAN",
    ),
    "ejgh": _j(
        "European Journal of Gastroenterology & Hepatology",
        "Eur J Gastroenterol Hepatol",
        "European journal of gastroenterology & hepatology",
        "EUR J GASTROEN HEPAT",
        "Eur. J. Gastroenterol. Hepatol.",
        "0954-691X",
        "LIPPINCOTT WILLIAMS & WILKINS",
    ),
    "transl_res": _j(
        "Translational Research",
        "Transl Res",
        "Translational research : the journal of laboratory and clinical medicine",
        "TRANSL RES",
        "Transl. Res.",
        "1931-5244",
        "ELSEVIER SCIENCE INC",
    ),
    "gastro": _j(
        "Gastroenterology",
        "Gastroenterology",
        "Gastroenterology",
        "GASTROENTEROLOGY",
        "Gastroenterology",
        "0016-5085",
        "W B SAUNDERS CO-ELSEVIER INC",
    ),
    "ueg": _j(
        "United European Gastroenterology Journal",
        "United European Gastroenterol J",
        "United European gastroenterology journal",
        "UNITED EUR GASTROENT",
        "United European Gastroenterol. J.",
        "2050-6406",
        "SAGE PUBLICATIONS LTD",
    ),
    "zhgzb": _j(
        "Zhonghua Gan Zang Bing Za Zhi",
        "Zhonghua Gan Zang Bing Za Zhi",
        "Zhonghua gan zang bing za zhi = Zhonghua ganzangbing zazhi = Chinese journal of "
        "hepatology",
        "ZHONGHUA GAN ZANG BING ZA ZHI",
        "Zhonghua Gan Zang Bing Za Zhi",
        "1007-3418",
        "",
        chinese=True,
    ),
    "zhyx": _j(
        "Zhonghua Yi Xue Za Zhi",
        "Zhonghua Yi Xue Za Zhi",
        "Zhonghua yi xue za zhi",
        "ZHONGHUA YI XUE ZA ZHI",
        "Zhonghua Yi Xue Za Zhi",
        "0376-2491",
        "",
        chinese=True,
    ),
}

ANIMAL_JOURNALS = [
    "scrt",
    "sctm",
    "stemcells",
    "scd",
    "plos",
    "scirep",
    "lifesci",
    "biomedph",
    "ijms",
    "cells",
    "expcell",
    "mmr",
    "celltx",
    "wjg",
    "wjsc",
    "cyto",
    "jtm",
    "transl_res",
    "dds",
    "liverint",
    "jgh",
    "sci",
]
CLINICAL_JOURNALS = [
    "scrt",
    "sctm",
    "celltx",
    "cyto",
    "wjg",
    "medicine",
    "jgh",
    "liverint",
    "sci",
    "dds",
    "jtm",
    "ejgh",
    "hepint",
]
REVIEW_JOURNALS = [
    "wjg",
    "wjsc",
    "scrt",
    "sci",
    "apt",
    "gutliver",
    "clinmolhep",
    "ijms",
    "cells",
    "jhep",
    "ejgh",
    "celltx",
]
# meeting abstracts: journal supplement and conference (name, dates, place) per journal
CONFERENCES: dict[str, list[tuple[str, str, str, str]]] = {
    "hep": [
        (
            "66th Annual Meeting of the AASLD - The Liver Meeting",
            "NOV 13-17, 2015",
            "San Francisco, CA",
            "62",
        ),
        (
            "67th Annual Meeting of the AASLD - The Liver Meeting",
            "NOV 11-15, 2016",
            "Boston, MA",
            "64",
        ),
        (
            "68th Annual Meeting of the AASLD - The Liver Meeting",
            "OCT 20-24, 2017",
            "Washington, DC",
            "66",
        ),
        (
            "69th Annual Meeting of the AASLD - The Liver Meeting",
            "NOV 09-13, 2018",
            "San Francisco, CA",
            "68",
        ),
        (
            "70th Annual Meeting of the AASLD - The Liver Meeting",
            "NOV 08-12, 2019",
            "Boston, MA",
            "70",
        ),
    ],
    "jhep": [
        (
            "International Liver Congress / 52nd Annual Meeting of the EASL",
            "APR 19-23, 2017",
            "Amsterdam, NETHERLANDS",
            "66",
        ),
        (
            "International Liver Congress / 53rd Annual Meeting of the EASL",
            "APR 11-15, 2018",
            "Paris, FRANCE",
            "68",
        ),
        (
            "International Liver Congress / 54th Annual Meeting of the EASL",
            "APR 10-14, 2019",
            "Vienna, AUSTRIA",
            "70",
        ),
    ],
    "cyto": [
        ("ISCT Annual Meeting", "MAY 23-26, 2016", "Singapore, SINGAPORE", "18"),
        ("ISCT Annual Meeting", "MAY 02-05, 2018", "Montreal, CANADA", "20"),
        ("ISCT Annual Meeting", "MAY 29-JUN 01, 2019", "Melbourne, AUSTRALIA", "21"),
    ],
    "hepint": [
        ("26th Annual Conference of APASL", "FEB 15-19, 2017", "Shanghai, PEOPLES R CHINA", "11"),
        ("27th Annual Conference of APASL", "MAR 14-18, 2018", "New Delhi, INDIA", "12"),
        ("28th Annual Conference of APASL", "FEB 20-24, 2019", "Manila, PHILIPPINES", "13"),
    ],
    "gastro": [
        ("Digestive Disease Week (DDW)", "MAY 06-09, 2017", "Chicago, IL", "152"),
        ("Digestive Disease Week (DDW)", "JUN 02-05, 2018", "Washington, DC", "154"),
    ],
    "jgh": [
        ("Asian Pacific Digestive Week (APDW)", "NOV 15-18, 2018", "Seoul, SOUTH KOREA", "33"),
        ("Asian Pacific Digestive Week (APDW)", "DEC 12-15, 2019", "Kolkata, INDIA", "34"),
    ],
    "ueg": [
        (
            "25th United European Gastroenterology Week",
            "OCT 28-NOV 01, 2017",
            "Barcelona, SPAIN",
            "5",
        ),
        ("26th United European Gastroenterology Week", "OCT 20-24, 2018", "Vienna, AUSTRIA", "6"),
    ],
}
CONF_YEAR = {
    "62": 2015,
    "64": 2016,
    "66": 2017,
    "68": 2018,
    "70": 2019,
    "18": 2016,
    "20": 2018,
    "21": 2019,
    "11": 2017,
    "12": 2018,
    "13": 2019,
    "152": 2017,
    "154": 2018,
    "33": 2018,
    "34": 2019,
    "5": 2017,
    "6": 2018,
}

# --------------------------------------------------------------------------------------------
# people and places (made up)

NAMES: dict[str, tuple[list[str], list[str]]] = {
    "China": (
        [
            "Zhang",
            "Wang",
            "Li",
            "Liu",
            "Chen",
            "Yang",
            "Huang",
            "Zhao",
            "Wu",
            "Zhou",
            "Xu",
            "Sun",
            "Ma",
            "Zhu",
            "Hu",
            "Guo",
            "He",
            "Lin",
            "Gao",
            "Luo",
            "Zheng",
            "Liang",
            "Xie",
            "Tang",
            "Song",
            "Han",
            "Feng",
            "Deng",
            "Cao",
            "Peng",
            "Zeng",
            "Xiao",
            "Tian",
            "Dong",
            "Pan",
            "Yuan",
            "Cai",
            "Jiang",
            "Yu",
            "Du",
            "Ye",
            "Cheng",
            "Wei",
            "Su",
            "Lu",
            "Ding",
            "Ren",
            "Shen",
            "Yao",
            "Jin",
            "Shi",
            "Qin",
            "Fan",
            "Meng",
            "Hou",
        ],
        [
            "Wei",
            "Jing",
            "Xiaoming",
            "Yan",
            "Hong",
            "Lei",
            "Jun",
            "Li",
            "Ying",
            "Hui",
            "Min",
            "Fang",
            "Qiang",
            "Xin",
            "Tao",
            "Yong",
            "Yu",
            "Jie",
            "Ping",
            "Chao",
            "Xiaoli",
            "Jianguo",
            "Haiyan",
            "Yanping",
            "Zhiqiang",
            "Xiaohong",
            "Guoqing",
            "Rui",
            "Bo",
            "Ning",
            "Liang",
            "Dan",
            "Kai",
            "Qing",
            "Yi-Fan",
            "Jia-Hui",
            "Zhi-Wei",
            "Xiao-Yu",
            "Hong-Mei",
            "Wen-Jie",
            "Shu-Lin",
            "Ya-Nan",
            "Meng",
            "Chun",
            "Lina",
            "Peng",
            "Hao",
            "Yue",
            "Jiaxin",
            "Zihan",
        ],
    ),
    "South Korea": (
        [
            "Kim",
            "Lee",
            "Park",
            "Choi",
            "Jung",
            "Kang",
            "Cho",
            "Yoon",
            "Jang",
            "Lim",
            "Han",
            "Shin",
            "Seo",
            "Kwon",
            "Hwang",
            "Ahn",
            "Yoo",
            "Hong",
            "Jeon",
            "Baek",
        ],
        [
            "Min-Jung",
            "Seung-Hoon",
            "Ji-Young",
            "Hyun-Woo",
            "Soo-Jin",
            "Dong-Hyun",
            "Eun-Ji",
            "Jae-Won",
            "Sang-Hoon",
            "Young-Suk",
            "Hye-Jin",
            "Jin-Woo",
            "Mi-Kyung",
            "Tae-Hun",
            "So-Young",
        ],
    ),
    "Japan": (
        [
            "Tanaka",
            "Suzuki",
            "Takahashi",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Saito",
            "Kato",
            "Yoshida",
            "Yamada",
            "Sasaki",
            "Matsumoto",
            "Inoue",
            "Kimura",
            "Hayashi",
            "Shimizu",
            "Fujita",
            "Okada",
        ],
        [
            "Hiroshi",
            "Takeshi",
            "Yuki",
            "Kenji",
            "Naoki",
            "Akira",
            "Satoshi",
            "Keiko",
            "Yoshiko",
            "Masahiro",
            "Shuji",
            "Isao",
            "Takahiro",
            "Ryo",
            "Atsushi",
            "Kazuhiro",
        ],
    ),
    "Iran": (
        [
            "Mohammadi",
            "Hosseini",
            "Ahmadi",
            "Rezaei",
            "Karimi",
            "Moradi",
            "Ghaffari",
            "Asgari",
            "Soleimani",
            "Rahimi",
            "Jafari",
            "Sadeghi",
            "Kazemi",
            "Nazari",
        ],
        [
            "Mehdi",
            "Ali",
            "Reza",
            "Maryam",
            "Fatemeh",
            "Hossein",
            "Zahra",
            "Saeed",
            "Nasser",
            "Hamid",
            "Leila",
            "Masoud",
        ],
    ),
    "Egypt": (
        [
            "Hassan",
            "Mohamed",
            "Ibrahim",
            "Abdel-Rahman",
            "El-Sayed",
            "Mahmoud",
            "Youssef",
            "Salem",
            "Fathy",
            "Kamal",
            "Abdelaziz",
            "Soliman",
            "El-Shafei",
            "Farouk",
        ],
        [
            "Ahmed",
            "Mohamed",
            "Mona",
            "Amr",
            "Hany",
            "Rania",
            "Sherif",
            "Yasmine",
            "Tarek",
            "Dina",
            "Heba",
            "Mahmoud",
            "Nermeen",
            "Waleed",
        ],
    ),
    "Germany": (
        [
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Krüger",
            "Böhm",
        ],
        [
            "Thomas",
            "Anna",
            "Andreas",
            "Katharina",
            "Stefan",
            "Julia",
            "Michael",
            "Sabine",
            "Jan",
            "Laura",
            "Tobias",
        ],
    ),
    "Italy": (
        [
            "Rossi",
            "Russo",
            "Bianchi",
            "Romano",
            "Colombo",
            "Ricci",
            "Marino",
            "Greco",
            "Bruno",
            "Gallo",
            "Conti",
            "Esposito",
        ],
        [
            "Marco",
            "Luca",
            "Giulia",
            "Francesca",
            "Alessandro",
            "Chiara",
            "Matteo",
            "Elena",
            "Paolo",
            "Silvia",
        ],
    ),
    "Spain": (
        [
            "García",
            "Martínez",
            "López",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Fernández",
            "Ruiz",
            "Díaz",
            "Moreno",
        ],
        ["Javier", "María", "Carmen", "José", "Lucía", "Pablo", "Elena", "Sergio", "Ana", "Raúl"],
    ),
    "United Kingdom": (
        [
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Johnson",
            "Davies",
            "Evans",
            "Thomas",
            "Roberts",
            "Walker",
            "O'Brien",
        ],
        [
            "James",
            "Sarah",
            "David",
            "Emily",
            "Oliver",
            "Charlotte",
            "Daniel",
            "Hannah",
            "Richard",
            "Rachel",
        ],
    ),
    "USA": (
        [
            "Miller",
            "Davis",
            "Anderson",
            "Jackson",
            "White",
            "Harris",
            "Martin",
            "Thompson",
            "Moore",
            "Clark",
            "Lewis",
            "Young",
        ],
        [
            "Michael",
            "Jennifer",
            "Robert",
            "Jessica",
            "William",
            "Ashley",
            "Christopher",
            "Amanda",
            "Matthew",
            "Megan",
        ],
    ),
    "Brazil": (
        [
            "Silva",
            "Santos",
            "Oliveira",
            "Souza",
            "Pereira",
            "Costa",
            "Almeida",
            "Ferreira",
            "Carvalho",
            "Rodrigues",
        ],
        [
            "João",
            "Ana",
            "Carlos",
            "Fernanda",
            "Lucas",
            "Mariana",
            "Rafael",
            "Beatriz",
            "Gustavo",
            "Camila",
        ],
    ),
    "India": (
        ["Sharma", "Gupta", "Singh", "Kumar", "Patel", "Reddy", "Rao", "Nair", "Mehta", "Joshi"],
        [
            "Rajesh",
            "Priya",
            "Amit",
            "Sunita",
            "Vikram",
            "Anjali",
            "Rahul",
            "Neha",
            "Sanjay",
            "Kavita",
        ],
    ),
    "Turkey": (
        ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk"],
        ["Mehmet", "Ayşe", "Emre", "Zeynep", "Mustafa", "Elif", "Burak", "Fatma"],
    ),
}
COUNTRY_WEIGHTS = (
    ("China", 46),
    ("South Korea", 7),
    ("Japan", 6),
    ("Iran", 6),
    ("Egypt", 5),
    ("Germany", 4),
    ("Italy", 4),
    ("Spain", 3),
    ("United Kingdom", 4),
    ("USA", 7),
    ("Brazil", 3),
    ("India", 3),
    ("Turkey", 2),
)
CITIES = {
    "China": [
        "Beijing",
        "Shanghai",
        "Guangzhou",
        "Hangzhou",
        "Wuhan",
        "Chengdu",
        "Changchun",
        "Jinan",
        "Nanjing",
        "Xi'an",
        "Tianjin",
        "Chongqing",
    ],
    "South Korea": ["Seoul", "Wonju", "Busan", "Daegu"],
    "Japan": ["Tokyo", "Osaka", "Yamaguchi", "Kyoto", "Nagoya"],
    "Iran": ["Tehran", "Shiraz", "Isfahan", "Mashhad"],
    "Egypt": ["Cairo", "Alexandria", "Mansoura", "Assiut"],
    "Germany": ["Hannover", "Berlin", "Munich", "Heidelberg"],
    "Italy": ["Milan", "Rome", "Padua", "Bologna"],
    "Spain": ["Barcelona", "Madrid", "Valencia", "Seville"],
    "United Kingdom": ["Birmingham", "Edinburgh", "London", "Newcastle"],
    "USA": ["Pittsburgh", "Boston", "Houston", "Baltimore", "San Francisco"],
    "Brazil": ["Porto Alegre", "Sao Paulo", "Rio de Janeiro", "Curitiba"],
    "India": ["New Delhi", "Chandigarh", "Mumbai", "Hyderabad"],
    "Turkey": ["Ankara", "Istanbul", "Izmir"],
}
DEPARTMENTS = [
    "Department of Hepatology",
    "Department of Infectious Diseases",
    "Department of Gastroenterology",
    "Department of Hepatobiliary Surgery",
    "Stem Cell Research Center",
    "Department of Internal Medicine",
    "Center for Regenerative Medicine",
    "Department of Pathophysiology",
    "Liver Research Center",
    "Department of Cell Biology",
]
INSTITUTIONS = [
    "First Affiliated Hospital",
    "University Hospital",
    "Medical University",
    "Third Affiliated Hospital",
    "School of Medicine",
    "Institute of Liver Diseases",
    "Medical Center",
    "People's Hospital",
]

# --------------------------------------------------------------------------------------------
# vocabularies for made-up titles and abstracts

CELLS = [
    ("bone marrow-derived mesenchymal stem cells", "BM-MSCs"),
    ("umbilical cord-derived mesenchymal stem cells", "UC-MSCs"),
    ("human umbilical cord mesenchymal stromal cells", "hUC-MSCs"),
    ("adipose-derived mesenchymal stem cells", "AD-MSCs"),
    ("adipose tissue-derived stromal cells", "ADSCs"),
    ("placenta-derived mesenchymal stem cells", "PD-MSCs"),
    ("menstrual blood-derived stem cells", "MenSCs"),
    ("amniotic membrane-derived mesenchymal stem cells", "AM-MSCs"),
    ("Wharton's jelly mesenchymal stromal cells", "WJ-MSCs"),
    ("tonsil-derived mesenchymal stem cells", "T-MSCs"),
    ("human dental pulp stem cells", "DPSCs"),
    ("induced pluripotent stem cell-derived mesenchymal stem cells", "iPSC-MSCs"),
    ("chorionic plate-derived mesenchymal stem cells", "CP-MSCs"),
    ("bone marrow mesenchymal stromal cells", "BMSCs"),
]
MODIFIED = [
    "hepatocyte growth factor-overexpressing",
    "IL-10-engineered",
    "hypoxia-preconditioned",
    "melatonin-pretreated",
    "FGF21-modified",
    "HO-1-transduced",
    "CXCR4-overexpressing",
    "IFN-γ-primed",
    "three-dimensional spheroid-cultured",
    "heat shock-preconditioned",
    "SIRT1-overexpressing",
    "TNF-α-preconditioned",
]
VESICLES = [
    "exosomes derived from {cell}",
    "extracellular vesicles secreted by {cell}",
    "conditioned medium from {cell}",
    "exosomal miR-{mir} from {cell}",
    "the secretome of {cell}",
]
MODELS = [
    ("carbon tetrachloride-induced liver fibrosis", "rats"),
    ("carbon tetrachloride-induced liver cirrhosis", "mice"),
    ("thioacetamide-induced liver cirrhosis", "rats"),
    ("concanavalin A-induced autoimmune hepatitis", "mice"),
    ("D-galactosamine/lipopolysaccharide-induced acute liver failure", "mice"),
    ("D-galactosamine-induced fulminant hepatic failure", "rats"),
    ("bile duct ligation-induced cholestatic liver fibrosis", "rats"),
    ("acetaminophen-induced acute liver injury", "mice"),
    ("methionine-choline-deficient diet-induced steatohepatitis", "mice"),
    ("high-fat diet-induced non-alcoholic steatohepatitis", "mice"),
    ("hepatic ischemia-reperfusion injury", "rats"),
    ("70% partial hepatectomy", "rats"),
    ("ethanol-induced alcoholic liver injury", "mice"),
    ("Schistosoma japonicum-induced liver fibrosis", "mice"),
    ("Mdr2-knockout sclerosing cholangitis", "mice"),
    ("acute-on-chronic liver failure induced by CCl4 and LPS", "rats"),
    ("small-for-size liver transplantation", "rats"),
    ("fulminant hepatic failure", "pigs"),
    ("dimethylnitrosamine-induced liver fibrosis", "rats"),
    ("alpha-naphthylisothiocyanate-induced cholestasis", "rats"),
]
MECHANISMS = [  # (phrase in a title, phrase in an abstract)
    ("via the TGF-β1/Smad signalling pathway", "inhibition of TGF-β1/Smad signalling"),
    (
        "by inhibiting hepatic stellate cell activation",
        "reduced activation of hepatic stellate cells",
    ),
    (
        "through modulation of macrophage polarization",
        "a shift of Kupffer cells towards an M2 phenotype",
    ),
    ("by suppressing the NLRP3 inflammasome", "suppression of NLRP3 inflammasome activation"),
    ("via paracrine secretion of hepatocyte growth factor", "paracrine hepatocyte growth factor"),
    ("through autophagy induction in hepatocytes", "induction of hepatocyte autophagy"),
    (
        "by restoring the Treg/Th17 balance",
        "an increase of regulatory T cells and fewer Th17 cells",
    ),
    ("via Wnt/β-catenin signalling", "modulation of Wnt/β-catenin signalling"),
    ("by attenuating oxidative stress through Nrf2/HO-1", "activation of the Nrf2/HO-1 axis"),
    ("by inhibiting hepatocyte apoptosis", "fewer TUNEL-positive hepatocytes and lower caspase-3"),
    ("through interleukin-10 secretion", "secretion of interleukin-10"),
    ("via the PI3K/AKT/mTOR pathway", "activation of PI3K/AKT signalling"),
    ("by promoting liver regeneration", "increased hepatocyte proliferation (Ki-67, PCNA)"),
    ("through inhibition of NF-κB activation", "reduced nuclear translocation of NF-κB p65"),
    ("by suppressing ferroptosis", "lower lipid peroxidation and restored GPX4 expression"),
    ("via regulation of the Hippo/YAP pathway", "regulation of YAP activity"),
    ("by modulating the gut-liver axis", "restored intestinal barrier function and microbiota"),
    ("through PD-L1-mediated suppression of T cells", "PD-L1-dependent suppression of T cells"),
    ("by inhibiting pyroptosis", "reduced gasdermin D cleavage"),
    ("via the IL-6/STAT3 pathway", "IL-6/STAT3 signalling"),
    ("by reducing neutrophil extracellular trap formation", "fewer neutrophil extracellular traps"),
    ("through mitochondrial transfer", "transfer of mitochondria to injured hepatocytes"),
    ("via TNF-α-stimulated gene 6", "secretion of TNF-α-stimulated gene 6"),
    ("by downregulating PPAR-γ", "downregulation of PPAR-γ"),
]
AUTHOR_KEYWORDS = [
    "Mesenchymal stem cells",
    "Liver fibrosis",
    "Liver cirrhosis",
    "Cell therapy",
    "Acute-on-chronic liver failure",
    "Exosomes",
    "Hepatic stellate cells",
    "Immunomodulation",
    "Liver regeneration",
    "Stem cell transplantation",
    "MELD score",
    "Umbilical cord",
    "Bone marrow",
    "Inflammation",
    "Apoptosis",
    "Macrophages",
    "Regenerative medicine",
    "Paracrine effect",
    "Liver failure",
    "Hepatocytes",
    "Safety",
    "Clinical trial",
]
KEYWORDS_PLUS = [
    "STROMAL CELLS",
    "BONE-MARROW",
    "LIVER FIBROSIS",
    "HEPATIC STELLATE CELLS",
    "CIRRHOSIS",
    "TRANSPLANTATION",
    "INJURY",
    "DIFFERENTIATION",
    "FAILURE",
    "EXPRESSION",
    "ACTIVATION",
    "REGENERATION",
    "INFLAMMATION",
    "EXOSOMES",
    "APOPTOSIS",
    "IN-VITRO",
    "MICE",
    "RATS",
    "SURVIVAL",
    "THERAPY",
    "SAFETY",
    "MACROPHAGES",
    "HEPATOCYTES",
]
VERBS = [
    "alleviate",
    "ameliorate",
    "attenuate",
    "protect against",
    "reverse",
    "improve",
    "mitigate",
    "reduce",
]
ANIMAL_TEMPLATES: list[str] = [
    "{Cell} {verb} {model} in {species} {mech}",
    "{Mod} {cell} {verb} {model} in {species}",
    "Therapeutic effects of {cell} on {model} in {species}: role of {factor}",
    "{Vesicle} {verb} {model} in {species} {mech}",
    "Comparison of {cell} and {cell2} in {species} with {model}",
    "Homing, engraftment and hepatic differentiation of {label} {cell} in {species} with {model}",
    "Dose-dependent effects of intravenous {cell} on {model} in {species}",
    "Intrasplenic versus intravenous transplantation of {cell} in {species} with {model}",
    "{Cell} combined with {combo} {verb} {model} in {species}",
    "Early versus delayed administration of {cell} in {species} with {model}",
    "Long-term safety and tumorigenicity of {cell} in {species} with {model}",
    "{Factor} mediates the protective effect of {cell} against {model} in {species}",
]
FACTORS = [
    "hepatocyte growth factor",
    "prostaglandin E2",
    "indoleamine 2,3-dioxygenase",
    "TSG-6",
    "interleukin-1 receptor antagonist",
    "milk fat globule-EGF factor 8",
    "stanniocalcin-1",
    "insulin-like growth factor 1",
    "vascular endothelial growth factor",
    "galectin-9",
    "miR-122",
    "lncRNA H19",
    "HNF-4α",
    "fibroblast growth factor 21",
]
LABELS = [
    "GFP-labelled",
    "superparamagnetic iron oxide-labelled",
    "luciferase-expressing",
    "DiR-labelled",
    "PKH26-labelled",
    "quantum dot-labelled",
]
COMBOS = [
    "hyperbaric oxygen",
    "melatonin",
    "curcumin",
    "platelet-rich plasma",
    "G-CSF",
    "silymarin",
    "atorvastatin",
    "hepatocyte growth factor gene therapy",
    "tacrolimus",
]

CLIN_DISEASES = [
    ("decompensated liver cirrhosis", "Liver Cirrhosis", "liver cirrhosis"),
    (
        "hepatitis B virus-related acute-on-chronic liver failure",
        "Acute-On-Chronic Liver Failure",
        "acute on chronic liver failure",
    ),
    ("alcoholic cirrhosis", "Liver Cirrhosis, Alcoholic", "alcohol liver cirrhosis"),
    (
        "primary biliary cholangitis with incomplete response to ursodeoxycholic acid",
        "Liver Cirrhosis, Biliary",
        "primary biliary cholangitis",
    ),
    ("autoimmune hepatitis-related cirrhosis", "Hepatitis, Autoimmune", "autoimmune hepatitis"),
    (
        "hepatitis C virus-related end-stage liver disease",
        "End Stage Liver Disease",
        "end stage liver disease",
    ),
    ("hepatitis B-related decompensated cirrhosis", "Hepatitis B, Chronic", "hepatitis B"),
    (
        "non-alcoholic steatohepatitis-related cirrhosis",
        "Non-alcoholic Fatty Liver Disease",
        "nonalcoholic steatohepatitis",
    ),
    ("acute liver failure", "Liver Failure, Acute", "acute liver failure"),
    ("primary sclerosing cholangitis", "Cholangitis, Sclerosing", "sclerosing cholangitis"),
    ("Wilson disease-related cirrhosis", "Hepatolenticular Degeneration", "Wilson disease"),
    ("post-hepatectomy liver failure", "Liver Failure", "liver failure"),
    ("refractory ascites due to cirrhosis", "Ascites", "ascites"),
    ("biliary atresia after Kasai portoenterostomy", "Biliary Atresia", "biliary atresia"),
    (
        "liver failure caused by drug-induced liver injury",
        "Chemical and Drug Induced Liver Injury",
        "drug-induced liver injury",
    ),
]
ROUTES = [
    "peripheral intravenous infusion",
    "hepatic arterial infusion",
    "portal vein injection",
    "intrasplenic injection",
]
WRONG_INTERVENTIONS = [
    "autologous bone marrow mononuclear cells",
    "CD133+ bone marrow cells",
    "granulocyte colony-stimulating factor",
    "G-CSF-mobilized peripheral blood CD34+ cells",
    "hepatocyte transplantation",
    "autologous macrophage therapy",
    "a bioartificial liver support system",
    "plasma exchange with double plasma molecular adsorption",
    "autologous bone marrow cell infusion",
    "erythropoietin plus G-CSF",
    "mononuclear cells from umbilical cord blood",
]
REVIEW_SUFFIXES = [
    "a systematic review and meta-analysis",
    "a meta-analysis of controlled studies",
    "current status and future perspectives",
    "from bench to bedside",
    "a narrative review",
    "mechanisms and clinical translation",
    "an update",
    "challenges and opportunities",
    "a systematic review of clinical trials",
    "where do we stand?",
    "hope or hype?",
    "an overview of registered clinical trials",
    "lessons from preclinical models",
    "a bibliometric analysis",
]
REVIEW_TOPICS = [
    "Mesenchymal stem cell therapy for {dis}",
    "Mesenchymal stromal cells in {dis}",
    "Stem cell-based therapies for {dis}",
    "{Cell} for the treatment of {dis}",
    "Efficacy and safety of stem cell transplantation in {dis}",
    "Extracellular vesicles from mesenchymal stem cells in {dis}",
    "Immunomodulation by mesenchymal stem cells in {dis}",
    "Cell therapy for {dis}",
    "Routes of administration of mesenchymal stem cells in {dis}",
    "Autologous versus allogeneic mesenchymal stem cells in {dis}",
    "Mesenchymal stem cells and liver regeneration in {dis}",
    "Hepatic differentiation of mesenchymal stem cells and its relevance to {dis}",
]
REVIEW_DISEASES = [
    "liver cirrhosis",
    "chronic liver disease",
    "acute-on-chronic liver failure",
    "liver fibrosis",
    "end-stage liver disease",
    "acute liver failure",
    "decompensated cirrhosis",
    "autoimmune liver diseases",
    "non-alcoholic fatty liver disease",
    "liver failure",
    "hepatic fibrosis",
    "cholestatic liver diseases",
    "alcohol-related liver disease",
    "liver transplantation",
]


# --------------------------------------------------------------------------------------------
# helpers


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def initials_of(given: str) -> str:
    parts = given.replace("-", " ").split()
    return "".join(p[0].upper() for p in parts)


def strip_accents(s: str) -> str:
    decomposed = unicodedata.normalize("NFKD", s.replace("ı", "i"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


GREEK_WORDS = {"α": "alpha", "β": "beta", "γ": "gamma", "κ": "kappa"}
GREEK_HTML = {"α": "&alpha;", "β": "&beta;", "γ": "&gamma;", "κ": "&kappa;"}


def greek_to_words(s: str) -> str:
    for g, w in GREEK_WORDS.items():
        s = s.replace(g, w)
    return s


def greek_to_html(s: str) -> str:
    for g, w in GREEK_HTML.items():
        s = s.replace(g, w)
    return s


BRITISH = [
    ("randomized", "randomised"),
    ("Randomized", "Randomised"),
    ("signaling", "signalling"),
    ("polarization", "polarisation"),
    ("characterization", "characterisation"),
    ("hemorrhage", "haemorrhage"),
    ("labeled", "labelled"),
    ("mobilized", "mobilised"),
]


def to_american(s: str) -> str:
    for us, gb in BRITISH:
        s = s.replace(gb, us)
    return s


def to_british(s: str) -> str:
    for us, gb in BRITISH:
        s = s.replace(us, gb)
    return s


SMALL_WORDS = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "by",
    "for",
    "from",
    "in",
    "into",
    "of",
    "on",
    "or",
    "the",
    "to",
    "versus",
    "via",
    "with",
    "vs",
}


def title_case(s: str) -> str:
    out: list[str] = []
    for i, w in enumerate(s.split(" ")):
        if i > 0 and w.lower() in SMALL_WORDS and not out[-1].endswith(":"):
            out.append(w.lower())
        elif w[:1].islower():
            out.append("-".join(cap(p) for p in w.split("-")))
        else:
            out.append(w)
    return " ".join(out)


def cap_after_colon(s: str) -> str:
    parts = s.split(": ")
    return ": ".join([parts[0]] + [cap(p) for p in parts[1:]])


def medline_pages(sp: str, ep: str) -> str:
    """MEDLINE style: 112-120 -> 112-20, 1490-1496 -> 1490-6."""
    if not ep or ep == sp:
        return sp
    if not (sp.isdigit() and ep.isdigit()) or len(sp) != len(ep):
        return f"{sp}-{ep}"
    i = 0
    while i < len(sp) - 1 and sp[i] == ep[i]:
        i += 1
    return f"{sp}-{ep[i:]}"


def wrap(prefix: str, text: str, width: int, indent: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=prefix,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [prefix.rstrip()]


# --------------------------------------------------------------------------------------------
# the generator


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.pubs: list[Pub] = []
        self.title_masks: list[int] = []
        self.word_bits: dict[str, int] = {}
        self.used_ids: set[str] = set()
        self.doi_n = 1000
        self.hard_cases: list[tuple[str, str, str, str]] = []

    # ---- small random helpers
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, seq: Sequence[str]) -> str:
        return self.rng.choice(seq)

    def country(self) -> str:
        names = [c for c, _ in COUNTRY_WEIGHTS]
        weights = [w for _, w in COUNTRY_WEIGHTS]
        return self.rng.choices(names, weights)[0]

    def authors(self, country: str, n: int | None = None) -> list[Author]:
        lasts, givens = NAMES[country]
        n = n or self.rng.choice([2, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11])
        out: list[Author] = []
        while len(out) < n:
            # a few co-authors from another country
            c = country if (not out or self.chance(0.9)) else self.country()
            ls, gs = NAMES[c]
            last, given = self.rng.choice(ls), self.rng.choice(gs)
            if c == country:
                last = self.rng.choice(lasts)
                given = self.rng.choice(givens)
            if self.chance(0.12) and c not in ("China", "South Korea"):
                given += " " + self.rng.choice("ABCDEFGHJKLMNPRS")
            if any(a.last == last and a.given == given for a in out):
                continue
            out.append(Author(last, initials_of(given), given))
        return out

    def affiliation(self, country: str) -> str:
        city = self.pick(CITIES[country])
        inst = self.pick(INSTITUTIONS)
        dept = self.pick(DEPARTMENTS)
        return f"{dept}, {inst}, {city}, {country}."

    def new_doi(self, journal: Journal, year: int) -> str:
        self.doi_n += self.rng.randint(3, 40)
        stem = "".join(ch for ch in journal.ta.lower() if ch.isalpha())[:8]
        return f"10.5555/{stem}.{year}.{self.doi_n:05d}"

    def claim_title(self, title: str, *, force: bool = False) -> bool:
        """Reserve a title; refuse one too close to an earlier title (word-set Jaccard >= 0.6)."""
        words = "".join(ch if ch.isalnum() else " " for ch in title.lower()).split()
        mask = 0
        for w in words:
            mask |= 1 << self.word_bits.setdefault(w, len(self.word_bits))
        if not force:
            for other in self.title_masks:
                if 5 * (mask & other).bit_count() >= 3 * (mask | other).bit_count():
                    return False
        self.title_masks.append(mask)
        return True

    def pages(self, journal: Journal) -> tuple[str, str, bool]:
        if journal.ta in (
            "PLoS One",
            "Sci Rep",
            "Stem Cells Int",
            "Stem Cell Res Ther",
            "Int J Mol Sci",
            "Cells",
            "J Transl Med",
            "Trials",
            "BMJ Open",
            "Medicine (Baltimore)",
            "Can J Gastroenterol Hepatol",
        ):
            if journal.ta == "PLoS One":
                return f"e0{self.rng.randint(100000, 269999)}", "", True
            if journal.ta in ("Stem Cells Int", "Can J Gastroenterol Hepatol"):
                return str(self.rng.randint(1000000, 9999999)), "", True
            if journal.ta == "Medicine (Baltimore)":
                return f"e{self.rng.randint(10000, 27999)}", "", True
            return str(self.rng.randint(1, 640)), "", True
        sp = self.rng.randint(1, 2900)
        return str(sp), str(sp + self.rng.randint(3, 14)), False

    def volume_for(self, journal: Journal, year: int) -> str:
        base = {
            "Hepatology": 53 + 2 * (year - 2011),
            "J Hepatol": 54 + 2 * (year - 2011),
            "World J Gastroenterol": 17 + (year - 2011),
            "PLoS One": 6 + (year - 2011),
            "Stem Cell Res Ther": 2 + (year - 2011),
            "Stem Cells Int": year,
            "Can J Gastroenterol Hepatol": year,
        }.get(journal.ta, 5 + (year - 2008) + len(journal.ta) % 20)
        return str(base)

    # ---- publication factory
    def make_pub(
        self,
        category: str,
        title: str,
        abstract: str,
        journal: Journal,
        year: int,
        country: str,
        *,
        mesh: list[str],
        emtree: list[str],
        pub_types: list[str],
        embase_type: str = "Article",
        wos_type: str = "Article",
        authors: list[Author] | None = None,
        note: str = "",
    ) -> Pub:
        sp, ep, artno = self.pages(journal)
        pub = Pub(
            pub_id=f"SP{len(self.pubs) + 1:04d}",
            category=category,
            title=title,
            authors=authors or self.authors(country),
            journal=journal,
            year=year,
            volume=self.volume_for(journal, year),
            issue=str(self.rng.randint(1, 12)) if not artno else self.pick(["", "1", "", "2"]),
            spage=sp,
            epage=ep,
            doi=self.new_doi(journal, year),
            abstract=abstract,
            mesh=mesh,
            emtree=emtree,
            pub_types=pub_types,
            embase_type=embase_type,
            wos_type=wos_type,
            month=self.pick(MONTHS),
            country=country,
            affiliation=self.affiliation(country),
            article_number=artno,
            note=note,
        )
        self.pubs.append(pub)
        return pub

    # ---- the 12 included trials (bibliographic data from the seed; abstracts made up)
    def included(self) -> None:
        studies = list(csv.DictReader(io.StringIO(INCLUDED_STUDIES_CSV)))
        arms = list(csv.DictReader(io.StringIO(TABLE1_CSV)))
        jmap = {j.ta: j for j in J.values()}
        for s in studies:
            rows = [a for a in arms if a["ref"] == s["ref"]]
            authors = []
            for a in s["authors"].split("; "):
                last, _, ini = a.rpartition(" ")
                authors.append(Author(last, ini, None))
            journal = jmap[s["journal"]]
            pages = s["pages"].split("-")
            sp, ep = pages[0], pages[1] if len(pages) > 1 else ""
            year = int(s["year"])
            country = rows[0]["country"]
            pub = Pub(
                pub_id=f"SP{len(self.pubs) + 1:04d}",
                category="included",
                title=s["title"],
                authors=authors,
                journal=journal,
                year=year,
                volume=s["volume"],
                issue=s["issue"],
                spage=sp,
                epage=ep,
                doi=s["doi"],
                abstract=self.included_abstract(rows),
                mesh=self.included_mesh(rows),
                emtree=self.included_emtree(rows),
                pub_types=["Journal Article", "Randomized Controlled Trial"],
                embase_type="Article",
                wos_type="Article",
                month="",
                country=country,
                affiliation="",
                article_number=not ep and len(sp) > 5,
                real=True,
                note=f"included trial, seed ref {s['ref']}",
            )
            if s["journal"] == "Stem Cells Int" and not pub.doi:
                # Hindawi DOIs are made of year and article number
                pub.doi = f"10.1155/{year}/{sp}"
            self.claim_title(pub.title, force=True)
            self.pubs.append(pub)

    @staticmethod
    def included_abstract(rows: list[dict[str, str]]) -> str:
        r = rows[0]
        disease = {
            "ACLF": "acute-on-chronic liver failure (ACLF)",
            "Decompensated cirrhosis": "decompensated liver cirrhosis",
            "Cirrhosis": "liver cirrhosis",
        }[r["liver_disease"]]
        n_exp = sum(int(x["n_exp"]) for x in rows)
        n_con = int(r["n_con"])
        cells = r["cell_type"].replace("BM-MSCs", "bone marrow-derived mesenchymal stem cells")
        cells = cells.replace("UC-MSCs", "umbilical cord-derived mesenchymal stem cells")
        route = r["administration_route"].lower().replace("injection", "infusion")
        times = r["times_of_treatment"].lower()
        times_txt = "a single infusion" if times == "one" else f"{times} infusions"
        etiology = r["etiology"]
        follow = r["follow_up"].replace(" month", " months").replace(" week", " weeks")
        follow = follow.replace(" day", " days")
        ae = (
            "Transient fever was the only adverse event related to the cell infusion."
            if r["adverse_event"] == "Fever"
            else "No serious adverse events related to the cell infusion were observed."
        )
        return (
            f"BACKGROUND AND AIMS: Patients with {disease} have few treatment options other than "
            f"liver transplantation. We assessed the efficacy and safety of {cells.lower()} in "
            f"patients with {disease} of {etiology} aetiology. METHODS: Patients were allocated "
            f"to receive {cells.lower()} by {route} ({times_txt}) in addition to standard "
            f"medical treatment (n = {n_exp}) or standard medical treatment alone "
            f"(n = {n_con}) and were followed for {follow}. Liver function (model for end-stage "
            "liver disease score, serum albumin, total bilirubin, prothrombin activity), "
            "complications and survival were recorded. RESULTS: Compared with the control "
            "group, patients who received cell therapy showed improvement of liver function "
            f"during follow-up. {ae} CONCLUSIONS: Mesenchymal stem cell therapy was safe and "
            f"may improve liver function in patients with {disease.split(' (')[0]}."
        )

    @staticmethod
    def included_mesh(rows: list[dict[str, str]]) -> list[str]:
        r = rows[0]
        dis = {
            "ACLF": "Acute-On-Chronic Liver Failure/*therapy",
            "Decompensated cirrhosis": "Liver Cirrhosis/*therapy",
            "Cirrhosis": "Liver Cirrhosis/*therapy",
        }[r["liver_disease"]]
        return [
            "Adult",
            "Female",
            "Humans",
            dis,
            "Male",
            "*Mesenchymal Stem Cell Transplantation/adverse effects/methods",
            "Mesenchymal Stem Cells",
            "Middle Aged",
            "Treatment Outcome",
        ]

    @staticmethod
    def included_emtree(rows: list[dict[str, str]]) -> list[str]:
        r = rows[0]
        dis = (
            "acute on chronic liver failure"
            if r["liver_disease"] == "ACLF"
            else ("liver cirrhosis")
        )
        return [
            "adult",
            "article",
            "controlled study",
            "female",
            "human",
            dis,
            "male",
            "mesenchymal stem cell transplantation",
            "randomized controlled trial",
            "treatment outcome",
            "model for end-stage liver disease score",
            "albumin",
            "bilirubin",
        ]

    # ---- made-up categories
    def cell(self) -> tuple[str, str]:
        return self.rng.choice(CELLS)

    def year(self, lo: int = 2008, hi: int = 2021) -> int:
        years = list(range(lo, hi + 1))
        weights = [1 + (y - lo) for y in years]  # more recent, more papers
        return self.rng.choices(years, weights)[0]

    def animal_parts(self) -> dict[str, str]:
        cell, abbr = self.cell()
        cell2, abbr2 = self.cell()
        while cell2 == cell:
            cell2, abbr2 = self.cell()
        model, species = self.rng.choice(MODELS)
        mech, mech_ab = self.rng.choice(MECHANISMS)
        mir = str(self.rng.randint(17, 760))
        vesicle = self.pick(VESICLES).format(cell=cell, mir=mir)
        verb = self.pick(VERBS)
        tmpl = self.pick(ANIMAL_TEMPLATES)
        if tmpl.startswith("{Vesicle}") and not vesicle.startswith(("exosomes", "extracellular")):
            verb = self.third_person(verb)
        mod = self.pick(MODIFIED)
        title = tmpl.format(
            Cell=cap(cell),
            cell=cell,
            cell2=cell2,
            verb=verb,
            model=model,
            species=species,
            mech=mech,
            Mod=cap(mod),
            factor=self.pick(FACTORS),
            Factor=cap(self.pick(FACTORS)),
            Vesicle=cap(vesicle),
            label=self.pick(LABELS),
            combo=self.pick(COMBOS),
        )
        product = abbr
        if tmpl.startswith("{Vesicle}"):
            product = f"{abbr}-derived {vesicle.split(' ')[0].replace('the', 'secretome')}"
            if "miR" in vesicle:
                product = f"{abbr}-derived exosomal miR-{mir}"
        elif tmpl.startswith("{Mod}"):
            product = f"{mod} {abbr}"
        return {
            "title": title,
            "cell": cell,
            "abbr": abbr,
            "abbr2": abbr2,
            "model": model,
            "species": species,
            "mech_ab": mech_ab,
            "product": product,
            "template": tmpl,
        }

    def animal_abstract(self, a: dict[str, str]) -> str:
        n = self.rng.randint(6, 15)
        weeks = self.rng.randint(1, 8)
        p = f"0.0{self.rng.randint(1, 5)}"
        openers = [
            f"{cap(a['model'])} has no effective therapy.",
            f"Effective treatments for {a['model'].split(' ', 1)[-1]} are lacking.",
            f"{cap(a['cell'])} ({a['abbr']}) have shown antifibrotic and immunomodulatory "
            "effects in preclinical studies.",
            f"The mechanisms by which {a['abbr']} protect the injured liver remain unclear.",
        ]
        aims = [
            f"We investigated the effect of {a['product']} in {a['species']} with {a['model']}.",
            f"This study examined whether {a['product']} could protect {a['species']} from "
            f"{a['model']} and explored the mechanism.",
        ]
        if "Comparison" in a["template"]:
            aims = [
                f"We compared {a['abbr']} and {a['abbr2']} in {a['species']} with {a['model']}."
            ]
        methods = [
            f"{cap(a['species'])} (n = {n} per group) received {a['product']} or vehicle "
            f"and were sacrificed {weeks} weeks later.",
            f"After induction of liver injury, {a['species']} were randomly allocated to "
            f"{a['product']}, vehicle or sham treatment (n = {n} per group).",
        ]
        results = [
            f"Treatment reduced serum ALT and AST, collagen deposition and hydroxyproline "
            f"content (P < {p}).",
            f"Treated {a['species']} had better survival, lower serum bilirubin and less "
            f"necrosis on histology (P < {p}).",
            f"Fibrosis scores and α-SMA expression were lower than in controls (P < {p}).",
        ]
        return " ".join(
            [
                self.pick(openers),
                self.pick(aims),
                self.pick(methods),
                self.pick(results),
                f"Mechanistically, the benefit was associated with {a['mech_ab']}.",
                self.pick(
                    [
                        f"These findings support {a['abbr']} as a candidate therapy for liver disease.",
                        "These results provide a rationale for clinical studies.",
                        f"{a['product'][:1].upper() + a['product'][1:]} may be a promising "
                        "cell-free or cell-based therapy.",
                    ]
                ),
            ]
        )

    @staticmethod
    def third_person(verb: str) -> str:
        first, _, rest = verb.partition(" ")
        if first.endswith("e"):
            first += "s"
        elif first.endswith("y"):
            first = first[:-1] + "ies"
        else:
            first += "s"
        return f"{first} {rest}".strip()

    def animal(self, n: int) -> None:
        while n:
            a = self.animal_parts()
            if not self.claim_title(a["title"]):
                continue
            species = a["species"]
            journal = J[self.pick(ANIMAL_JOURNALS)]
            animal_mesh = {"rats": "Rats", "mice": "Mice", "pigs": "Swine"}[species]
            self.make_pub(
                "animal",
                a["title"],
                self.animal_abstract(a),
                journal,
                self.year(),
                self.country(),
                mesh=[
                    "Animals",
                    "Disease Models, Animal",
                    animal_mesh,
                    "Male",
                    "*Mesenchymal Stem Cell Transplantation",
                    "Mesenchymal Stem Cells/metabolism",
                    "Liver/pathology",
                    "Liver Cirrhosis, Experimental/*therapy",
                ],
                emtree=[
                    "animal experiment",
                    "animal model",
                    "animal tissue",
                    "controlled study",
                    {"rats": "rat", "mice": "mouse", "pigs": "pig"}[species],
                    "male",
                    "nonhuman",
                    "mesenchymal stem cell",
                    "liver fibrosis",
                    "article",
                ],
                pub_types=["Journal Article", "Research Support, Non-U.S. Gov't"],
            )
            n -= 1

    def review_title(self) -> str:
        topic = self.pick(REVIEW_TOPICS)
        cell, _ = self.cell()
        t = topic.format(dis=self.pick(REVIEW_DISEASES), Cell=cap(cell))
        return f"{t}: {self.pick(REVIEW_SUFFIXES)}"

    def reviews(self, n: int) -> None:
        # hard case: Part I / Part II of a series (same authors, journal, year, issue)
        country = "United Kingdom"
        authors = self.authors(country, 3)
        j = J["apt"]
        titles = [
            "Mesenchymal stromal cells in chronic liver disease. Part I: biology, homing and "
            "mechanisms of action",
            "Mesenchymal stromal cells in chronic liver disease. Part II: clinical trials and "
            "future directions",
        ]
        parts = []
        for t in titles:
            self.claim_title(t, force=True)
            p = self.make_pub(
                "review_meta_analysis",
                t,
                self.review_abstract(t),
                j,
                2019,
                country,
                mesh=[
                    "Humans",
                    "Liver Diseases/*therapy",
                    "*Mesenchymal Stem Cell Transplantation",
                    "Mesenchymal Stem Cells/*physiology",
                ],
                emtree=["human", "review", "mesenchymal stem cell", "chronic liver disease"],
                pub_types=["Journal Article", "Review"],
                embase_type="Review",
                wos_type="Review",
                authors=authors,
                note="series part",
            )
            parts.append(p)
        parts[1].volume, parts[1].issue, parts[1].month = parts[0].volume, parts[0].issue, "Jun"
        parts[0].month = "Jun"
        parts[0].spage, parts[0].epage = "1412", "1427"
        parts[1].spage, parts[1].epage = "1428", "1441"
        self.hard_cases.append(
            (
                parts[0].pub_id,
                parts[1].pub_id,
                "series_part_I_II",
                "Part I and Part II of a review series: same authors, journal, "
                "year and issue, consecutive pages",
            )
        )
        n -= 2
        while n:
            t = self.review_title()
            if not self.claim_title(t):
                continue
            country = self.country()
            meta = "meta-analysis" in t or "systematic review" in t
            self.make_pub(
                "review_meta_analysis",
                t,
                self.review_abstract(t),
                J[self.pick(REVIEW_JOURNALS)],
                self.year(2010),
                country,
                mesh=[
                    "Humans",
                    "Liver Diseases/*therapy",
                    "*Mesenchymal Stem Cell Transplantation",
                    "Treatment Outcome",
                ],
                emtree=["human", "review", "mesenchymal stem cell transplantation", "liver disease"]
                + (["meta analysis", "systematic review"] if meta else []),
                pub_types=["Journal Article"]
                + (["Meta-Analysis", "Systematic Review"] if meta else ["Review"]),
                embase_type="Review",
                wos_type="Review",
            )
            n -= 1

    def review_abstract(self, title: str) -> str:
        if "meta-analysis" in title or "systematic review" in title:
            k = self.rng.randint(6, 31)
            return (
                "BACKGROUND: Several clinical studies have tested mesenchymal stem cells in liver "
                "disease with inconsistent results. METHODS: PubMed, Embase, the Cochrane "
                "Library and Web of Science were searched for controlled studies. Pooled "
                "estimates were calculated with random-effects models. RESULTS: "
                f"{k} studies with {k * self.rng.randint(25, 60)} patients were included. Cell "
                "therapy improved the MELD score and serum albumin, whereas the effect on "
                "survival was uncertain. Heterogeneity was substantial. CONCLUSIONS: Stem cell "
                "therapy appears safe and may improve liver function; large randomized trials "
                "are needed."
            )
        return (
            "Mesenchymal stem cells (MSCs) have attracted attention as a treatment for liver "
            "disease because of their immunomodulatory and antifibrotic properties and their "
            "capacity to support liver regeneration. In this review we summarise the biology of "
            "MSCs, the mechanisms proposed in preclinical models, and the results of clinical "
            "studies, and we discuss open questions about cell source, dose, route and timing "
            "of administration and long-term safety."
        )

    def clinical_parts(self, kind: str) -> dict[str, str]:
        cell, abbr = self.cell()
        if self.chance(0.5):
            cell = self.pick(["autologous ", "allogeneic "]) + cell
        dis, mesh_dis, em_dis = self.rng.choice(CLIN_DISEASES)
        route = self.pick(ROUTES)
        if kind == "single_arm":
            t = self.pick(
                [
                    "Safety and feasibility of {cell} in patients with {dis}: a phase I study",
                    "{Cell} for {dis}: an open-label, single-arm pilot study",
                    "A phase I/II dose-escalation study of {cell} in {dis}",
                    "{Route} of {cell} in patients with {dis}: a prospective uncontrolled study",
                    "Short-term outcomes of {cell} transplantation in {n} patients with {dis}",
                    "First-in-human trial of {cell} in {dis}",
                    "Repeated infusions of {cell} in {dis}: a phase II single-arm trial",
                ]
            )
        elif kind == "wrong_intervention":
            cell = self.pick(WRONG_INTERVENTIONS)
            abbr = "the intervention"
            t = self.pick(
                [
                    "{Cell} in patients with {dis}: a randomized controlled trial",
                    "Randomized trial of {cell} versus standard medical therapy for {dis}",
                    "Efficacy of {cell} in {dis}: a randomised, open-label study",
                    "{Cell} improves survival in {dis}: a randomized pilot trial",
                    "{Cell} for {dis}: a multicenter randomized study",
                ]
            )
        elif kind == "observational":
            t = self.pick(
                [
                    "Long-term follow-up of patients with {dis} treated with {cell}: a "
                    "retrospective cohort study",
                    "Factors associated with response to {cell} in {dis}: a single-centre "
                    "experience",
                    "Quality of life after {cell} therapy in patients with {dis}",
                    "Real-world outcomes of {cell} in {dis}: a propensity score-matched analysis",
                    "Cost-effectiveness of {cell} for {dis} in a tertiary hospital",
                    "Predictors of survival after {cell} therapy for {dis}",
                ]
            )
        elif kind == "in_vitro":
            t = self.pick(
                [
                    "Characterization of {cell} isolated from patients with {dis}",
                    "Hepatic differentiation of {cell} in vitro: a comparison of induction "
                    "protocols",
                    "Impact of serum from patients with {dis} on the proliferation of {cell}",
                    "Proteomic profiling of {cell} cultured under hypoxic conditions",
                    "{Cell} inhibit activation of human hepatic stellate cells in a co-culture "
                    "model",
                    "Senescence of {cell} from elderly donors: implications for {dis}",
                    "Good manufacturing practice-grade expansion of {cell} for {dis}",
                ]
            )
        elif kind == "wrong_population":
            t = self.pick(
                [
                    "{Cell} for steroid-refractory acute graft-versus-host disease with liver "
                    "involvement",
                    "{Cell} infusion to induce tolerance after liver transplantation: a pilot study",
                    "Role of {cell} in the progression of hepatocellular carcinoma",
                    "{Cell} for ischemic-type biliary lesions after liver transplantation",
                    "{Cell} in children with {dis}",
                    "Tracking of radiolabelled {cell} after {route} in healthy volunteers",
                ]
            )
        elif kind == "rct_no_data":
            t = self.pick(
                [
                    "{Cell} in {dis}: a randomized controlled pilot trial",
                    "Effect of {cell} on immune cell subsets in {dis}: a randomized trial",
                    "{Route} of {cell} for {dis}: a randomised controlled study",
                    "Randomized controlled trial of {cell} combined with standard medical treatment "
                    "in {dis}",
                ]
            )
        else:  # nonrandomised controlled
            t = self.pick(
                [
                    "{Cell} plus standard medical treatment versus standard medical treatment "
                    "alone for {dis}: a non-randomized controlled study",
                    "Comparison of {cell} and conventional treatment in {dis}: a prospective "
                    "controlled study",
                    "{Cell} in {dis}: a controlled study with historical controls",
                    "Open-label controlled trial of {cell} in patients with {dis}",
                    "Efficacy of {cell} for {dis}: a case-control study",
                ]
            )
        t = t.format(
            cell=cell,
            Cell=cap(cell),
            dis=dis,
            Route=cap(route),
            route=route,
            n=self.rng.randint(8, 64),
        )
        return {
            "title": t,
            "kind": kind,
            "cell": cell,
            "abbr": abbr,
            "dis": dis,
            "route": route,
            "mesh_dis": mesh_dis,
            "em_dis": em_dis,
        }

    def clinical_abstract(self, c: dict[str, str]) -> str:
        kind, cell, dis, abbr = c["kind"], c["cell"], c["dis"], c["abbr"]
        n = self.rng.randint(8, 120)
        weeks = self.rng.choice([12, 24, 48, 52, 96])
        if kind == "in_vitro":
            return (
                f"BACKGROUND: The quality of {cell} determines their therapeutic potential. "
                f"METHODS: {cap(abbr)} were isolated from {self.rng.randint(3, 24)} donors and "
                "expanded in vitro; surface markers, proliferation, trilineage and hepatic "
                "differentiation and cytokine secretion were measured. RESULTS: The cells met "
                "the minimal criteria of the International Society for Cellular Therapy; "
                f"{self.pick(['proliferation', 'secretion of HGF', 'IDO activity'])} differed "
                "between culture conditions. CONCLUSIONS: These data support further "
                "preclinical evaluation."
            )
        design = {
            "single_arm": "single-arm, open-label study",
            "wrong_intervention": "randomized controlled trial",
            "observational": "retrospective cohort study",
            "wrong_population": "pilot study",
            "nonrandomised": "non-randomized controlled study",
            "rct_no_data": "randomized controlled trial",
        }[kind]
        if kind in ("wrong_intervention", "rct_no_data"):
            arms = (
                f"{n} patients were randomly assigned to {cell} plus standard medical "
                "treatment or standard medical treatment alone"
            )
        elif kind == "nonrandomised":
            arms = (
                f"{n} patients who chose {cell} were compared with "
                f"{self.rng.randint(10, 120)} patients who received standard treatment"
            )
        else:
            arms = f"{n} patients received {cell} by {c['route']}"
        result = self.pick(
            [
                "The MELD score decreased and serum albumin increased compared with baseline.",
                "Transplant-free survival did not differ significantly between groups.",
                "Ascites and hepatic encephalopathy improved in a subset of patients.",
                "Liver stiffness and Child-Pugh score improved in responders.",
                "Immunological changes were observed, but clinical outcomes were not reported "
                "by group.",
            ]
        )
        return (
            f"BACKGROUND: Treatment options for {dis} are limited. AIM: To evaluate the "
            f"safety and efficacy of {cell}. METHODS: In this {design}, {arms}. Outcomes "
            f"were assessed during {weeks} weeks of follow-up. RESULTS: {result} "
            f"{self.pick(['No serious adverse events occurred.', 'Transient fever was the most common adverse event.', 'Adverse events were mild and self-limiting.'])} "
            "CONCLUSIONS: "
            + self.pick(
                [
                    "The treatment was feasible and well tolerated; larger controlled studies "
                    "are warranted.",
                    f"{cap(cell)} may benefit patients with {dis}.",
                    "Randomized trials with longer follow-up are needed.",
                ]
            )
        )

    def clinical_pub(self, category: str, kind: str, note: str = "") -> Pub:
        while True:
            c = self.clinical_parts(kind)
            if self.claim_title(c["title"]):
                break
        pts = ["Journal Article"]
        pts += {
            "single_arm": ["Clinical Trial, Phase I"],
            "wrong_intervention": ["Randomized Controlled Trial"],
            "rct_no_data": ["Randomized Controlled Trial"],
            "observational": ["Observational Study"],
            "nonrandomised": ["Controlled Clinical Trial"],
        }.get(kind, [])
        pts.append("Research Support, Non-U.S. Gov't")
        return self.make_pub(
            category,
            c["title"],
            self.clinical_abstract(c),
            J[self.pick(CLINICAL_JOURNALS)],
            self.year(2010),
            self.country(),
            mesh=[
                "Adult",
                "Humans",
                f"{c['mesh_dis']}/*therapy",
                "Middle Aged",
                "*Mesenchymal Stem Cell Transplantation",
                "Treatment Outcome",
            ],
            emtree=[
                "adult",
                "human",
                c["em_dis"],
                "mesenchymal stem cell transplantation",
                "clinical article" if kind != "in_vitro" else "in vitro study",
                "article",
            ],
            pub_types=pts,
            note=note,
        )

    def fulltext(self, n_insufficient: int, n_not_rct: int) -> list[Pub]:
        out = []
        for _ in range(n_insufficient):
            out.append(self.clinical_pub("fulltext_excluded_insufficient_data", "rct_no_data"))
        for _ in range(n_not_rct):
            out.append(self.clinical_pub("fulltext_excluded_not_rct", "nonrandomised"))
        return out

    def tiab(self, n: int) -> None:
        kinds = (
            ["single_arm"] * 5
            + ["wrong_intervention"] * 4
            + ["observational"] * 3
            + ["in_vitro"] * 3
            + ["wrong_population"] * 3
        )
        for _ in range(n):
            self.clinical_pub("tiab_excluded", self.pick(kinds))

    def case_letters(self, n: int) -> None:
        templates = [
            "{Cell} infusion in a patient with {dis}: a case report",
            "Successful treatment of {dis} with {cell}: report of two cases",
            "Hepatic mass after {cell} transplantation in a patient with {dis}",
            "Letter: {cell} for {dis} - time for caution",
            "Portal vein thrombosis after {cell} infusion: a case report",
        ]
        while n:
            cell, _ = self.cell()
            dis = self.rng.choice(CLIN_DISEASES)[0]
            t = self.pick(templates).format(cell=cell, Cell=cap(cell), dis=dis)
            if not self.claim_title(t):
                continue
            letter = t.startswith("Letter")
            abstract = (
                ""
                if letter
                else (
                    f"We report a patient with {dis} who received {cell}. The clinical course, "
                    "laboratory findings and imaging during follow-up are described, and the "
                    "literature is briefly reviewed."
                )
            )
            self.make_pub(
                "case_report_letter",
                t,
                abstract,
                J[self.pick(CLINICAL_JOURNALS)],
                self.year(2011),
                self.country(),
                mesh=["Humans", "Male", "Middle Aged", "*Mesenchymal Stem Cell Transplantation"],
                emtree=["human", "case report", "male", "mesenchymal stem cell transplantation"],
                pub_types=["Letter"] if letter else ["Case Reports", "Journal Article"],
                embase_type="Letter" if letter else "Article",
                wos_type="Letter" if letter else "Article",
            )
            n -= 1

    def meeting(self, n: int) -> list[Pub]:
        out = []
        while n:
            if self.chance(0.45):
                a = self.animal_parts()
                title, abstract = a["title"], self.animal_abstract(a)
            else:
                c = self.clinical_parts(
                    self.pick(
                        ["single_arm", "observational", "nonrandomised", "in_vitro", "rct_no_data"]
                    )
                )
                title, abstract = c["title"], self.clinical_abstract(c)
            if not self.claim_title(title):
                continue
            out.append(self.meeting_pub(title, abstract))
            n -= 1
        return out

    def meeting_pub(
        self,
        title: str,
        abstract: str,
        *,
        key: str | None = None,
        conf_index: int | None = None,
        authors: list[Author] | None = None,
        country: str | None = None,
        note: str = "",
    ) -> Pub:
        key = key or self.pick(list(CONFERENCES))
        confs = CONFERENCES[key]
        conf = confs[conf_index] if conf_index is not None else self.rng.choice(confs)
        name, dates, place, vol = conf
        country = country or self.country()
        journal = J[key]
        pub = self.make_pub(
            "meeting_abstract",
            title,
            abstract,
            journal,
            CONF_YEAR[vol],
            country,
            mesh=[],
            emtree=["conference abstract", "human", "mesenchymal stem cell"],
            pub_types=["Congress"],
            embase_type="Conference Abstract",
            wos_type="Meeting Abstract",
            authors=authors,
            note=note,
        )
        pub.volume = vol
        pub.issue = self.pick(["Suppl 1", "1 Suppl", "Suppl. 1", "S1"])
        n = self.rng.randint(20, 1400)
        pub.spage, pub.epage, pub.article_number = {
            "hep": (f"{n}A", f"{n}A"),
            "gastro": (f"S-{n}", ""),
            "jhep": (f"e{n}", ""),
            "cyto": (f"S{n % 140 + 10}", ""),
            "hepint": (f"S{n % 600 + 10}", ""),
            "jgh": (f"{n % 400 + 100}", ""),
            "ueg": (f"A{n % 700 + 50}", ""),
        }[key] + (False,)
        pub.doi = "" if self.chance(0.7) else pub.doi
        pub.conference = (name, dates, place)
        pub.month = dates[:3].capitalize()
        return pub

    # ---- deliberate hard cases (not duplicates)
    def hard(self) -> dict[str, Pub]:
        by_ref = {p.note: p for p in self.pubs if p.real}
        lin = by_ref["included trial, seed ref 10"]
        suk = by_ref["included trial, seed ref 25"]
        out: dict[str, Pub] = {}
        # 1. conference abstract with the same title as an included trial, same journal
        ab = self.meeting_pub(
            lin.title,
            "BACKGROUND: ACLF caused by hepatitis B virus carries a high short-term mortality. "
            "METHODS: Patients with HBV-related ACLF were randomized to allogeneic bone "
            "marrow-derived mesenchymal stromal cells plus standard medical treatment or "
            "standard medical treatment alone. Interim results are reported. RESULTS: Cell "
            "infusion was well tolerated and liver function improved in the treated group. "
            "CONCLUSIONS: Recruitment and follow-up continue.",
            key="hep",
            conf_index=0,
            authors=lin.authors[:6],
            country="China",
            note="conference abstract of included trial (seed ref 10)",
        )
        out["abstract_of_included"] = ab
        self.hard_cases.append(
            (
                ab.pub_id,
                lin.pub_id,
                "conference_abstract_vs_article",
                "AASLD 2015 abstract with the same title as the 2017 journal "
                "article (same journal, Hepatology)",
            )
        )
        # 2. erratum of an included trial
        err_title = f"Erratum: {suk.title}"
        self.claim_title(err_title, force=True)
        err = self.make_pub(
            "tiab_excluded",
            err_title,
            "",
            J["hep"],
            2017,
            "South Korea",
            mesh=[],
            emtree=["erratum"],
            pub_types=["Published Erratum"],
            embase_type="Erratum",
            wos_type="Correction",
            authors=suk.authors[:1],
            note="erratum of included trial (seed ref 25)",
        )
        err.volume, err.issue, err.spage, err.epage, err.month = "65", "4", "1424", "", "Apr"
        out["erratum"] = err
        self.hard_cases.append(
            (
                err.pub_id,
                suk.pub_id,
                "erratum_vs_article",
                "published erratum whose title repeats the included trial's",
            )
        )
        # 3. a letter commenting on an included trial, and the authors' reply
        letter_t = (
            "Allogeneic mesenchymal stromal cells for hepatitis B virus-related "
            "acute-on-chronic liver failure: a randomized controlled trial?"
        )
        self.claim_title(letter_t, force=True)
        letter = self.make_pub(
            "case_report_letter",
            letter_t,
            "",
            J["hep"],
            2018,
            "Italy",
            mesh=["Humans", "*Acute-On-Chronic Liver Failure", "*Mesenchymal Stem Cells"],
            emtree=["letter", "human"],
            pub_types=["Letter", "Comment"],
            embase_type="Letter",
            wos_type="Letter",
            note="letter on included trial (seed ref 10)",
        )
        letter.volume, letter.issue, letter.spage, letter.epage = "67", "2", "803", "804"
        reply_t = "Reply"
        reply = self.make_pub(
            "case_report_letter",
            reply_t,
            "",
            J["hep"],
            2018,
            "China",
            mesh=["Humans"],
            emtree=["letter", "human"],
            pub_types=["Letter", "Comment"],
            embase_type="Letter",
            wos_type="Letter",
            authors=lin.authors[:4],
            note="authors' reply to the letter on included trial (seed ref 10)",
        )
        reply.volume, reply.issue, reply.spage, reply.epage = "67", "2", "804", "805"
        out["letter"], out["reply"] = letter, reply
        self.hard_cases.append(
            (
                letter.pub_id,
                lin.pub_id,
                "comment_vs_article",
                "letter whose title paraphrases the included trial's title",
            )
        )
        self.hard_cases.append(
            (
                reply.pub_id,
                lin.pub_id,
                "reply_vs_article",
                "authors' reply, same authors and journal as the trial",
            )
        )
        # 4. protocol vs results of a made-up trial
        base = (
            "Umbilical cord mesenchymal stem cells for hepatitis B-related decompensated cirrhosis"
        )
        prot_t = f"{base}: study protocol for a multicentre randomised controlled trial"
        res_t = f"{base}: a multicentre randomized controlled trial"
        self.claim_title(prot_t, force=True)
        self.claim_title(res_t, force=True)
        authors = self.authors("China", 9)
        prot = self.make_pub(
            "tiab_excluded",
            prot_t,
            "BACKGROUND: Decompensated cirrhosis due to hepatitis B has a poor prognosis. "
            "METHODS/DESIGN: This multicentre, randomised, controlled, open-label trial will "
            "allocate 240 patients to umbilical cord mesenchymal stem cells plus standard "
            "treatment or standard treatment alone. The primary outcome is transplant-free "
            "survival at 48 weeks. DISCUSSION: The trial will provide evidence on the efficacy "
            "and safety of the therapy. TRIAL REGISTRATION: ClinicalTrials.gov (made-up "
            "registration).",
            J["trials"],
            2017,
            "China",
            mesh=[
                "Humans",
                "Hepatitis B, Chronic/complications",
                "Liver Cirrhosis/*therapy",
                "*Mesenchymal Stem Cell Transplantation",
                "Randomized Controlled Trials as Topic",
            ],
            emtree=[
                "human",
                "study protocol",
                "randomized controlled trial (topic)",
                "liver cirrhosis",
                "umbilical cord mesenchymal stem cell",
            ],
            pub_types=["Clinical Trial Protocol", "Journal Article"],
            authors=authors,
            note="protocol of a made-up trial",
        )
        res = self.make_pub(
            "fulltext_excluded_insufficient_data",
            res_t,
            "BACKGROUND: We previously published the protocol of this trial. METHODS: Patients "
            "with hepatitis B-related decompensated cirrhosis were randomized to umbilical cord "
            "mesenchymal stem cells plus standard treatment or standard treatment alone. "
            "RESULTS: Transplant-free survival and liver function are presented as figures "
            "only. CONCLUSIONS: Umbilical cord mesenchymal stem cells were safe.",
            J["jtm"],
            2020,
            "China",
            mesh=[
                "Humans",
                "Hepatitis B, Chronic/complications",
                "Liver Cirrhosis/*therapy",
                "*Mesenchymal Stem Cell Transplantation",
                "Treatment Outcome",
            ],
            emtree=[
                "human",
                "randomized controlled trial",
                "liver cirrhosis",
                "umbilical cord mesenchymal stem cell",
            ],
            pub_types=["Journal Article", "Randomized Controlled Trial"],
            authors=authors[:7] + authors[8:],
            note="results paper of the made-up trial",
        )
        out["protocol"], out["results"] = prot, res
        self.hard_cases.append(
            (
                prot.pub_id,
                res.pub_id,
                "protocol_vs_results",
                "protocol and results of the same trial, same first authors",
            )
        )
        # 5. conference abstract and later journal article, same title (made-up study)
        art = self.clinical_pub(
            "fulltext_excluded_not_rct",
            "nonrandomised",
            note="article with an earlier conference abstract",
        )
        conf = self.meeting_pub(
            art.title,
            art.abstract.replace("RESULTS:", "RESULTS (interim):"),
            key="hepint",
            conf_index=min(2, max(0, art.year - 2018)),
            authors=art.authors[:5],
            country=art.country,
            note="conference abstract of a later article",
        )
        art.year = max(art.year, conf.year + 1)
        art.volume = self.volume_for(art.journal, art.year)
        out["article2"], out["abstract2"] = art, conf
        self.hard_cases.append(
            (
                conf.pub_id,
                art.pub_id,
                "conference_abstract_vs_article",
                "APASL abstract and the later full article with the same title",
            )
        )
        # 6. same first authors, journal and year, different studies
        a = self.clinical_pub("tiab_excluded", "single_arm", note="same group, same year (1)")
        b = self.clinical_pub("tiab_excluded", "observational", note="same group, same year (2)")
        b.authors = a.authors[:3] + self.authors(a.country, 3)
        b.journal, b.year = a.journal, a.year
        b.volume = a.volume
        b.country, b.affiliation = a.country, a.affiliation
        out["samegroup1"], out["samegroup2"] = a, b
        self.hard_cases.append(
            (
                a.pub_id,
                b.pub_id,
                "same_authors_journal_year",
                "two different studies by the same group in the same journal and year",
            )
        )
        return out

    # ---- assign databases
    def assign_databases(self, hard: dict[str, Pub]) -> None:
        fixed = {
            "abstract_of_included": "EC",
            "erratum": "PEW",
            "letter": "PEW",
            "reply": "PE",
            "protocol": "PEC",
            "results": "PEWC",
            "article2": "PEW",
            "abstract2": "E",
            "samegroup1": "PE",
            "samegroup2": "PE",
        }
        fixed_ids = {hard[k].pub_id: v for k, v in fixed.items()}
        series = [p for p in self.pubs if p.note == "series part"]
        for p in series:
            fixed_ids[p.pub_id] = "PEW"
        included_fixed = {"21": "PEW", "26": "PEC"}  # El-Ansary not in CENTRAL, Schacher not WoS
        for p in self.pubs:
            if p.real:
                ref = p.note.rsplit(" ", 1)[1]
                fixed_ids[p.pub_id] = included_fixed.get(ref, "PEWC")
        for cat in CATEGORIES:
            pool: list[str] = []
            for pat, k in PATTERNS[cat].items():
                pool += [pat] * k
            pubs = [p for p in self.pubs if p.category == cat]
            assert len(pubs) == len(pool), (cat, len(pubs), len(pool))
            free = []
            for p in pubs:
                if p.pub_id in fixed_ids:
                    pool.remove(fixed_ids[p.pub_id])
                    p.dbs = fixed_ids[p.pub_id]
                else:
                    free.append(p)
            self.rng.shuffle(pool)
            # Chinese-language journals only where neither WoS nor CENTRAL hold the record
            for p in free:
                p.dbs = pool.pop()
            for p in free:
                if (
                    "W" not in p.dbs
                    and "C" not in p.dbs
                    and p.category in ("animal", "tiab_excluded")
                    and self.chance(0.12)
                ):
                    p.journal = J[self.pick(["zhgzb", "zhyx"])]
                    p.volume = str(20 + p.year - 2008)

    # ---- identifiers per database
    def draw_id(self, db: str, y: int) -> str:
        r = self.rng.randint
        if db == "P":
            lo = 21000000 + (y - 2011) * 1250000
            return str(r(lo, lo + 1249999))
        if db == "E":
            if y < 2014:
                return f"L{r(52000000, 372999999)}"
            lo = 600000000 + (y - 2014) * 30000000
            return f"L{r(lo, lo + 29999999)}"
        if db == "W":
            lo = 290000 + (y - 2011) * 45000
            return f"WOS:000{r(lo, lo + 44999):06d}{r(0, 999) * 1000 + r(1, 40):06d}"
        lo = 800000 + (y - 2011) * 180000
        return f"CN-0{r(lo, lo + 179999):07d}"

    def assign_ids(self) -> None:
        for p in sorted(self.pubs, key=lambda q: (q.year, q.pub_id)):
            for db in DB_ORDER:
                if db in p.dbs:
                    while True:
                        v = self.draw_id(db, p.year)
                        if v not in self.used_ids:
                            break
                    self.used_ids.add(v)
                    p.ids[db] = v

    def build(self) -> None:
        self.included()
        hard = self.hard()
        self.fulltext(10 - 1, 12 - 1)  # one of each made in hard()
        self.animal(176)
        self.case_letters(8 - 2)
        self.reviews(67)
        self.meeting(81 - 2)
        self.tiab(238 - 4)
        counts = {c: sum(1 for p in self.pubs if p.category == c) for c in CATEGORIES}
        for c in CATEGORIES:
            assert counts[c] == sum(PATTERNS[c].values()), (c, counts[c])
        self.assign_databases(hard)
        self.assign_ids()


# --------------------------------------------------------------------------------------------
# per-database noise


class Noise:
    """Per-record, per-database variation, drawn from its own seeded stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def title(self, pub: Pub, db: str) -> str:
        t = pub.title
        if db == "P":
            if pub.journal.chinese:
                return f"[{t}]."
            return t if t.endswith(("?", ".")) else t + "."
        if db == "E":
            t = greek_to_words(cap_after_colon(t))
            if self.chance(0.08):
                t = to_british(t) if self.chance(0.5) else to_american(t)
            return t
        if db == "W":
            t = greek_to_words(t)
            if pub.journal.title_case_wos or self.chance(0.1):
                t = title_case(t)
            if self.chance(0.06):
                t = t.replace(" - ", " -- ").replace(": ", ": ")
            return t
        # Cochrane
        if self.chance(0.3):
            t = greek_to_html(t)
        if self.chance(0.25):
            t = t.replace("-", "\u2010")  # Wiley's hyphen character
        if self.chance(0.3) and not t.endswith(("?", ".")):
            t += "."
        return t

    def doi(self, pub: Pub, db: str) -> str:
        p_missing = {"P": 0.04, "E": 0.15, "W": 0.08, "C": 0.35}[db]
        if pub.real and db != "C":
            p_missing /= 2
        if not pub.doi or self.chance(p_missing):
            return ""
        if db == "W" and self.chance(0.1):
            return pub.doi.upper() if pub.doi.startswith("10.5555") else pub.doi
        return pub.doi

    def author(self, a: Author, db: str) -> tuple[str, str]:
        """(short form, long form) for the database."""
        ini = a.initials
        last = a.last
        if db == "E" and self.chance(0.15):
            last = strip_accents(last)
        if db == "W" and self.chance(0.3):
            last = strip_accents(last)
        given = a.given
        if db == "P":
            return f"{last} {ini.replace('-', '')}", f"{last}, {given or ini}"
        if db == "E":
            dotted = ".".join(ini.replace("-", "")) + "."
            if "-" in ini:
                parts = ini.split("-")
                dotted = ".-".join(parts[0]) + ".-" + ".".join(parts[1]) + "."
                dotted = ".-".join([".".join(x) for x in parts]) + "."
            return f"{cap(last)} {dotted}", f"{cap(last)}, {given or dotted}"
        if db == "W":
            return f"{last}, {ini.replace('-', '')}", f"{last}, {given or ini}"
        dotted = ". ".join(ini.replace("-", "")) + "."
        return f"{last}, {dotted}", f"{last}, {given or dotted}"

    def embase_year(self, pub: Pub) -> int:
        if not pub.real and pub.category != "meeting_abstract" and self.chance(0.05):
            return pub.year - 1  # online-first date
        return pub.year


# --------------------------------------------------------------------------------------------
# writers


def nbib_record(pub: Pub, noise: Noise) -> list[str]:
    out: list[str] = []

    def add(tag: str, value: str, wrap_it: bool = True) -> None:
        prefix = f"{tag:<4}- "
        if wrap_it:
            out.extend(wrap(prefix, value, 88, " " * 6))
        else:
            out.append(prefix + value)

    pmid = pub.ids["P"]
    medline = pub.real or pub.year < 2021 or int(pmid) % 3 != 0
    medline = (medline and not pub.journal.chinese) or (pub.journal.chinese and pub.year < 2019)
    add("PMID", pmid)
    add("OWN", "NLM")
    add("STAT", "MEDLINE" if medline else "PubMed-not-MEDLINE")
    if medline:
        add("DCOM", f"{pub.year + 1}{int(pmid) % 12 + 1:02d}{int(pmid) % 27 + 1:02d}")
    add("LR", f"{min(pub.year + 2, 2021)}{int(pmid) % 9 + 1:02d}{int(pmid) % 23 + 3:02d}")
    add("IS", f"{pub.journal.issn} (Print)" if int(pmid) % 2 else f"{pub.journal.issn} (Linking)")
    if pub.volume:
        add("VI", pub.volume)
    if pub.issue:
        add("IP", pub.issue)
    dp = f"{pub.year} {pub.month}".strip()
    add("DP", dp)
    add("TI", noise.title(pub, "P"))
    pg = medline_pages(pub.spage, pub.epage)
    if pg:
        add("PG", pg)
    doi = noise.doi(pub, "P")
    if doi:
        add("LID", f"{doi} [doi]")
    if pub.abstract:
        add("AB", pub.abstract)
    for i, a in enumerate(pub.authors):
        short, long_ = noise.author(a, "P")
        add("FAU", long_)
        add("AU", short)
        if i == 0 and pub.affiliation:
            add("AD", pub.affiliation)
    add("LA", "chi" if pub.journal.chinese else "eng")
    for pt in pub.pub_types:
        add("PT", pt)
    add("PL", "China" if pub.journal.chinese else "United States")
    add("TA", pub.journal.ta)
    add("JT", pub.journal.jt)
    add("JID", f"{int(pub.journal.issn[:4]) * 7 + 100000000}")
    if medline:
        add("SB", "IM")
        for m in pub.mesh:
            add("MH", m)
    else:
        add("OTO", "NOTNLM")
        for k in pub.emtree[:5]:
            add("OT", k)
    edat = f"{pub.year}/{MONTHS.index(pub.month) + 1 if pub.month else 1:02d}/15 06:00"
    add("EDAT", edat)
    add("MHDA", edat.replace("06:00", "06:01"))
    add("CRDT", edat)
    add("PHST", f"{edat} [pubmed]")
    if doi:
        add("AID", f"{doi} [doi]")
    add("PST", "ppublish")
    so = f"{pub.journal.ta}. {dp}"
    if pub.volume:
        so += f";{pub.volume}"
        if pub.issue:
            so += f"({pub.issue})"
    if pg:
        so += f":{pg}"
    so += "."
    if doi:
        so += f" doi: {doi}."
    add("SO", so)
    return out


def write_nbib(pubs: list[Pub], noise: Noise) -> str:
    recs = sorted((p for p in pubs if "P" in p.dbs), key=lambda p: -int(p.ids["P"]))
    blocks = ["\n".join(nbib_record(p, noise)) for p in recs]
    return "\n" + "\n\n".join(blocks) + "\n"


def embase_record(pub: Pub, noise: Noise) -> list[str]:
    acc = pub.ids["E"]
    out = ["TY  - JOUR", f"M3  - {pub.embase_type}", f"Y1  - {noise.embase_year(pub)}"]
    if pub.volume:
        out.append(f"VL  - {pub.volume}")
    if pub.issue:
        issue = pub.issue.upper().replace("SUPPL ", "SUPPL. ").replace("1 SUPPL", "SUPPL. 1")
        out.append(f"IS  - {issue}")
    if pub.spage:
        out.append(f"SP  - {pub.spage}")
    if pub.epage and pub.epage != pub.spage:
        out.append(f"EP  - {pub.epage}")
    out.append(f"SN  - {pub.journal.issn}")
    if noise.chance(0.4):
        out.append(f"SN  - {pub.journal.issn}")
    jf = pub.journal.full
    if pub.journal.chinese:
        jf = pub.journal.jt.split(" = ")[-1].title()
    out.append(f"JF  - {jf}")
    out.append(f"JO  - {pub.journal.ji if noise.chance(0.5) else jf}")
    out.append(
        f"UR  - http://www.embase.com/search/results?subaction=viewrecord&from=export&id={acc}"
    )
    out.append(f"U2  - {acc}")
    if "P" in pub.ids:
        out.append(f"C5  - {pub.ids['P']}")
    out.append("DB  - Embase")
    if "P" in pub.ids:
        out.append("DB  - Medline")
    out.append(f"U3  - {pub.year}-{(int(acc[1:]) % 12) + 1:02d}-{(int(acc[1:]) % 27) + 1:02d}")
    doi = noise.doi(pub, "E")
    if doi:
        out.append(f"L2  - http://dx.doi.org/{doi}")
        out.append(f"DO  - {doi}")
    for a in pub.authors:
        short, _ = noise.author(a, "E")
        out.append(f"A1  - {short}")
    if pub.affiliation and pub.authors:
        first, _ = noise.author(pub.authors[0], "E")
        out.append(f"M1  - ({first}) {pub.affiliation.rstrip('.')}")
        out.append(f"AD  - {first}, {pub.affiliation.rstrip('.')}")
    out.append(f"T1  - {noise.title(pub, 'E')}")
    out.append(f"LA  - {'Chinese' if pub.journal.chinese else 'English'}")
    for k in pub.emtree:
        out.append(f"KW  - {k}")
    if pub.abstract:
        ab = greek_to_words(pub.abstract)
        if pub.journal.publisher and not pub.real and noise.chance(0.35):
            holder = pub.journal.publisher.title().replace("Inc", "Inc.")
            ab += f" Copyright \u00a9 {pub.year} {holder}. All rights reserved."
        out.append(f"N2  - {ab}")
    out.append("ER  -")
    return out


def write_embase(pubs: list[Pub], noise: Noise) -> str:
    recs = [p for p in pubs if "E" in p.dbs]
    rng = random.Random(SEED + 1)
    rng.shuffle(recs)  # relevance order
    blocks = ["\n".join(embase_record(p, noise)) for p in recs]
    return "\ufeff" + "\n\n".join(blocks) + "\n"


def wos_record(pub: Pub, noise: Noise) -> list[str]:
    out: list[str] = []

    def multi(tag: str, values: list[str]) -> None:
        for i, v in enumerate(values):
            out.append(f"{tag if i == 0 else '  '} {v}")

    def wrapped(tag: str, value: str, sep: str = " ") -> None:
        out.extend(wrap(f"{tag} ", value, 76, "   "))

    out.append("PT J")
    forms = [noise.author(a, "W") for a in pub.authors]
    multi("AU", [f[0] for f in forms])
    multi("AF", [f[1] for f in forms])
    wrapped("TI", noise.title(pub, "W"))
    wrapped("SO", pub.journal.full.upper().replace("&", "&"))
    out.append("LA English")
    out.append(f"DT {pub.wos_type}")
    if pub.conference:
        name, dates, place = pub.conference
        wrapped("CT", name)
        out.append(f"CY {dates}")
        out.append(f"CL {place}")
    if not pub.real and pub.category not in ("meeting_abstract", "case_report_letter"):
        if noise.chance(0.8):
            wrapped("DE", "; ".join(noise.rng.sample(AUTHOR_KEYWORDS, noise.rng.randint(3, 6))))
        wrapped("ID", "; ".join(noise.rng.sample(KEYWORDS_PLUS, noise.rng.randint(2, 9))))
    if pub.abstract:
        ab = greek_to_words(pub.abstract)
        if noise.chance(0.5):
            for lab in (
                "BACKGROUND AND AIMS:",
                "BACKGROUND:",
                "METHODS:",
                "RESULTS:",
                "CONCLUSIONS:",
                "AIM:",
                "METHODS/DESIGN:",
                "DISCUSSION:",
                "TRIAL REGISTRATION:",
            ):
                ab = ab.replace(lab, lab.capitalize())
        out.append(f"AB {ab}")
    if pub.affiliation:
        names = "; ".join(f[1] for f in forms[:3])
        out.append(f"C1 [{names}] {pub.affiliation}")
        out.append(f"RP {forms[0][0]} (corresponding author), {pub.affiliation}")
    nr = noise.rng.randint(18, 64) if pub.wos_type != "Meeting Abstract" else 0
    out.append(f"NR {nr}")
    tc = noise.rng.randint(0, 90) if pub.wos_type in ("Article", "Review") else 0
    out.append(f"TC {tc}")
    out.append(f"Z9 {tc + noise.rng.randint(0, 4) if tc else 0}")
    out.append(f"U1 {noise.rng.randint(0, 12)}")
    out.append(f"U2 {noise.rng.randint(2, 60)}")
    if pub.journal.publisher:
        out.append(f"PU {pub.journal.publisher}")
    out.append(f"SN {pub.journal.issn}")
    out.append(f"J9 {pub.journal.j9}")
    out.append(f"JI {pub.journal.ji}")
    if pub.month:
        out.append(f"PD {pub.month.upper()}")
    out.append(f"PY {pub.year}")
    if pub.volume:
        out.append(f"VL {pub.volume}")
    if pub.issue:
        if "upp" in pub.issue or "S" in pub.issue:
            out.append("SU 1")
        else:
            out.append(f"IS {pub.issue}")
    if pub.article_number and not pub.epage:
        out.append(f"AR {pub.spage}")
    else:
        out.append(f"BP {pub.spage}")
        out.append(f"EP {pub.epage or pub.spage}")
    doi = noise.doi(pub, "W")
    if doi:
        out.append(f"DI {doi}")
    if pub.epage and pub.spage.isdigit() and pub.epage.isdigit():
        out.append(f"PG {int(pub.epage) - int(pub.spage) + 1}")
    else:
        out.append("PG 1" if pub.wos_type in ("Meeting Abstract", "Correction") else "PG 10")
    out.append(
        "WC Gastroenterology & Hepatology"
        if pub.journal.ta
        in (
            "Hepatology",
            "J Gastroenterol Hepatol",
            "Liver Int",
            "J Hepatol",
            "Hepatol Int",
            "World J Gastroenterol",
            "Gastroenterology",
        )
        else "WC Cell & Tissue Engineering"
    )
    ut = pub.ids["W"]
    out.append(f"GA {ut[7:9]}{chr(65 + int(ut[9:11]) % 26)}{chr(65 + int(ut[11:13]) % 26)}")
    out.append(f"UT {ut}")
    if "P" in pub.ids and noise.chance(0.85):
        out.append(f"PM {pub.ids['P']}")
    out.append(f"DA {SEARCH_DATE}")
    out.append("ER")
    return out


def write_wos(pubs: list[Pub], noise: Noise) -> str:
    recs = sorted((p for p in pubs if "W" in p.dbs), key=lambda p: (-p.year, p.ids["W"]))
    lines = ["\ufeffFN Clarivate Analytics Web of Science", "VR 1.0"]
    for p in recs:
        lines.extend(wos_record(p, noise))
        lines.append("")
    lines.append("EF")
    return "\n".join(lines) + "\n"


def cochrane_record(pub: Pub, noise: Noise) -> list[str]:
    cn = pub.ids["C"]
    out = ["TY  - JOUR", f"ID  - {cn}"]
    use_long = noise.chance(0.3)
    for a in pub.authors:
        short, long_ = noise.author(a, "C")
        out.append(f"AU  - {long_ if use_long else short}")
    out.append(f"TI  - {noise.title(pub, 'C')}")
    jo = pub.journal.jt if noise.chance(0.7) else pub.journal.full
    out.append(f"JO  - {jo}")
    out.append(f"PY  - {pub.year}")
    if pub.volume:
        out.append(f"VL  - {pub.volume}")
    if pub.issue:
        out.append(f"IS  - {pub.issue}")
    if pub.spage:
        out.append(f"SP  - {pub.spage}")
    if pub.epage and pub.epage != pub.spage and noise.chance(0.8):
        out.append(f"EP  - {pub.epage}")
    for m in (pub.mesh or pub.emtree)[:8]:
        term, _, sub = m.partition("/")
        out.append(f"KW  - {term} [{sub}]" if sub else f"KW  - {m}")
    for pt in pub.pub_types:
        if pt == "Congress":
            pt = "Conference Abstract"
        out.append(f"PT  - {pt}")
    out.append(
        "M3  - Conference proceeding"
        if pub.category == "meeting_abstract"
        else "M3  - Journal article"
    )
    doi = noise.doi(pub, "C")
    if doi:
        out.append(f"DO  - {doi.replace('-', chr(0x2010)) if noise.chance(0.2) else doi}")
    if pub.abstract and noise.chance(0.85):
        out.append(f"AB  - {pub.abstract}")
    out.append(f"UR  - https://www.cochranelibrary.com/central/doi/10.1002/central/{cn}/full")
    out.append("ER  - ")
    return out


def write_cochrane(pubs: list[Pub], noise: Noise) -> str:
    recs = [p for p in pubs if "C" in p.dbs]
    rng = random.Random(SEED + 2)
    rng.shuffle(recs)
    blocks = ["\r\n".join(cochrane_record(p, noise)) for p in recs]
    return "\r\n\r\n".join(blocks) + "\r\n\r\n"


# --------------------------------------------------------------------------------------------


def generate() -> dict[str, str]:
    """Return {file name: content} for every output file."""
    gen = Generator()
    gen.build()
    pubs = gen.pubs
    contents = {
        FILES["P"]: write_nbib(pubs, Noise(random.Random(SEED + 10))),
        FILES["E"]: write_embase(pubs, Noise(random.Random(SEED + 11))),
        FILES["W"]: write_wos(pubs, Noise(random.Random(SEED + 12))),
        FILES["C"]: write_cochrane(pubs, Noise(random.Random(SEED + 13))),
    }
    truth = io.StringIO()
    w = csv.writer(truth, lineterminator="\n")
    w.writerow(["file", "source_id", "publication_id", "category"])
    for db in DB_ORDER:
        for p in sorted((p for p in pubs if db in p.dbs), key=lambda p: p.ids[db]):
            w.writerow([FILES[db], p.ids[db], p.pub_id, p.category])
    contents["truth.csv"] = truth.getvalue()
    hard = io.StringIO()
    w = csv.writer(hard, lineterminator="\n")
    w.writerow(
        [
            "kind",
            "publication_id",
            "source_ids",
            "other_publication_id",
            "other_source_ids",
            "description",
        ]
    )
    by_id = {p.pub_id: p for p in pubs}
    for a, b, kind, desc in gen.hard_cases:
        pa, pb = by_id[a], by_id[b]
        w.writerow(
            [
                kind,
                a,
                " ".join(pa.ids[d] for d in DB_ORDER if d in pa.ids),
                b,
                " ".join(pb.ids[d] for d in DB_ORDER if d in pb.ids),
                desc,
            ]
        )
    contents["hard_cases.csv"] = hard.getvalue()
    # sanity: the counts the seed review reports
    n_rec = sum(len(p.dbs) for p in pubs)
    assert n_rec == EXPECTED["records"], n_rec
    assert len(pubs) == EXPECTED["publications"], len(pubs)
    for db, n in EXPECTED_PER_FILE.items():
        assert sum(1 for p in pubs if db in p.dbs) == n, db
    return contents


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    here = Path(__file__).resolve().parent
    outdir = Path(args[0]) if args else here / "exports"
    outdir.mkdir(parents=True, exist_ok=True)
    for name, text in generate().items():
        (outdir / name).write_bytes(text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
