"""robvis input layouts: the templates from robvis's repository round-trip byte for byte, and bad
cells are refused with file, line and column (shared/spec/rob_prisma.md §3.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.errors import InvalidInput, ParseError
from reviewtool.rob.robvis import (
    ROB1,
    ROB2,
    ROB2_CLUSTER,
    Level,
    read_robvis,
    read_robvis_file,
    robvis_table,
    write_robvis,
    write_robvis_file,
)
from reviewtool.rob.tools import Rob1Judgement, Rob2Judgement

L, S, H, NI, NA = Level.LOW, Level.CONCERNS, Level.HIGH, Level.NO_INFORMATION, Level.NOT_APPLICABLE

TEMPLATES = [
    ("robvis_data_rob1.csv", ROB1),
    ("robvis_data_rob2.csv", ROB2),
    ("robvis_data_rob2_cluster.csv", ROB2_CLUSTER),
]


def _template(shared_dir: Path, name: str) -> Path:
    return shared_dir / "spec" / "templates" / name


@pytest.mark.parametrize(("name", "tool"), TEMPLATES)
def test_templates_round_trip_byte_for_byte(
    shared_dir: Path, tmp_path: Path, name: str, tool: str
) -> None:
    source = _template(shared_dir, name)
    table = read_robvis_file(source, tool=tool)
    assert len(table.rows) == 9
    target = tmp_path / name
    write_robvis_file(table, target)
    assert target.read_bytes() == source.read_bytes()


def test_rob1_template_values(shared_dir: Path) -> None:
    table = read_robvis_file(_template(shared_dir, "robvis_data_rob1.csv"), tool=ROB1)
    assert table.domain_headers[0] == "Random.sequence.generation"
    assert table.domain_names[-1] == "Other sources of bias"
    assert table.domain_codes == ("D1", "D2", "D3", "D4", "D5", "D6", "D7")
    row5 = table.rows[4]
    assert (row5.study, row5.line) == ("Study 5", 6)
    assert row5.judgements == (H, H, H, L, L, S, S)
    assert row5.overall is H
    assert table.rows[6].judgements[-1] is NI  # "No information"
    assert table.has_overall and not table.weighted


def test_rob2_template_values(shared_dir: Path) -> None:
    table = read_robvis_file(_template(shared_dir, "robvis_data_rob2.csv"), tool=ROB2)
    assert table.rows[2].judgements == (NI, L, S, L, L)
    assert table.domain_names[0] == "Bias arising from the randomization process"
    cluster = read_robvis_file(
        _template(shared_dir, "robvis_data_rob2_cluster.csv"), tool=ROB2_CLUSTER
    )
    assert cluster.domain_codes == ("D1", "D1b", "D2", "D3", "D4", "D5")
    assert cluster.rows[0].judgements[1] is NA


def test_building_the_rob1_template_from_our_judgements_gives_its_bytes(shared_dir: Path) -> None:
    source = _template(shared_dir, "robvis_data_rob1.csv")
    parsed = read_robvis_file(source, tool=ROB1)
    words = {L: Rob1Judgement.LOW, S: Rob1Judgement.UNCLEAR, H: Rob1Judgement.HIGH}
    rows = [
        (
            r.study,
            [words.get(j, "No information") if j is not None else None for j in r.judgements],
            words[r.overall] if r.overall else None,
            None,
        )
        for r in parsed.rows
    ]
    assert write_robvis(robvis_table(ROB1, rows)).encode() == source.read_bytes()


def test_rob2_weighted_table_and_file_form_survive_a_round_trip() -> None:
    text = (
        "\ufeffStudy,D1,D2,D3,D4,D5,Overall,Weight\r\n"
        '"Lin, 2017",Low,Some concerns,Low,Low,low risk,Some concerns,12.50\r\n'
        "Shi 2012,High,Low,Low,Low,Low,High,3"
    )
    table = read_robvis(text, tool=ROB2)
    assert table.weighted and table.bom and table.newline == "\r\n" and not table.final_newline
    assert [r.weight for r in table.rows] == [12.5, 3.0]
    assert table.rows[0].study == "Lin, 2017"
    # "low risk" is read as Low and written in the canonical word.
    assert write_robvis(table) == text.replace("low risk", "Low")
    built = robvis_table(
        ROB2,
        [("A", [Rob2Judgement.LOW] * 5, "Low", 2.0), ("B", ["High"] * 5, Level.HIGH, 0.25)],
        weighted=True,
    )
    assert write_robvis(built) == (
        "Study,D1,D2,D3,D4,D5,Overall,Weight\nA,Low,Low,Low,Low,Low,Low,2\n"
        "B,High,High,High,High,High,High,0.25\n"
    )


def test_empty_cells_are_not_assessed_and_stay_empty() -> None:
    text = "Study,Random.sequence.generation,Blinding.of.outcome.assessment,Overall\nA,Low,,Low\n"
    table = read_robvis(text, tool=ROB1)
    assert table.rows[0].judgements == (L, None)
    assert write_robvis(table) == text


@pytest.mark.parametrize(
    ("tool", "text", "message"),
    [
        (
            ROB2,
            "Study,D1,D2,D3,D4,D5,Overall\nS1,Low,Low,Low,Low,Low,Low\nS2,Low,Lo,Low,Low,Low,Low\n",
            "rob.csv:3: column 3 (D2): 'Lo' is not a ROB2 judgement; use Low, Some concerns, High, No information, Not applicable",
        ),
        (
            ROB2,
            "Study,D1,D2,D3,D4,D5,Overall\nS1,Unclear,Low,Low,Low,Low,Low\n",
            "rob.csv:2: column 2 (D1): 'Unclear' is not a ROB2 judgement",
        ),
        (
            ROB1,
            "Study,Random.sequence.generation,Allocation.concealment,Overall\nS1,Low,Some concerns,Low\n",
            "rob.csv:2: column 3 (Allocation.concealment): 'Some concerns' is not a ROB1 judgement; use Low, Unclear, High",
        ),
        (
            ROB2,
            "Study,D1,D2,D3,D4,D5,Overall\nS1,Low,Low,Low,Low,Low\n",
            "rob.csv:2: 6 fields, but the header has 7",
        ),
        (
            ROB2,
            "Study,D1,D2,D3,D4,Overall\nS1,Low,Low,Low,Low,Low\n",
            "rob.csv:1: ROB2 needs 5 domain columns",
        ),
        (
            ROB2,
            "Study,D1,D2,D3,D4,D5,Overall\n,Low,Low,Low,Low,Low,Low\n",
            "rob.csv:2: column 1 (Study)",
        ),
        (
            ROB2,
            "Study,D1,D2,D3,D4,D5,Overall,Weight\nS1,Low,Low,Low,Low,Low,Low,heavy\n",
            "rob.csv:2: column 8 (Weight): 'heavy' is not a weight",
        ),
        (ROB2, "Study,D1,D2,D3,D4,D5,Overall\n", "rob.csv:1: no study rows"),
        # a comment used to be "1 fields, but the header has 7", or taken for the header
        (
            ROB2,
            "Study,D1,D2,D3,D4,D5,Overall\n# checked by Bob\nS1,Low,Low,Low,Low,Low,Low\n",
            "rob.csv:2: a comment line (it starts with '#'), and a robvis file has none",
        ),
        (
            ROB2,
            "# from robvis\nStudy,D1,D2,D3,D4,D5,Overall\nS1,Low,Low,Low,Low,Low,Low\n",
            "rob.csv:1: a comment line (it starts with '#')",
        ),
        (ROB2, "Study,D1,D2,D3,D4,D5,Overall\nS1\n", "rob.csv:2: 1 field, but the header has 7"),
        (ROB2, "", "rob.csv: the file is empty"),
    ],
)
def test_bad_input_is_one_line_naming_line_and_column(tool: str, text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_robvis(text, tool=tool, path="rob.csv")
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_line_numbers_count_multi_line_fields() -> None:
    text = 'Study,D1,D2,D3,D4,D5,Overall\n"Lin\n2017",Low,Low,Low,Low,Low,Low\nS2,Low,Low,Bad,Low,Low,Low\n'
    with pytest.raises(ParseError, match=r"^rob.csv:4: column 4 \(D3\)"):
        read_robvis(text, tool=ROB2, path="rob.csv")


def test_blank_lines_and_rows_of_empty_cells_are_skipped() -> None:
    # a row of empty cells (as a spreadsheet saves a cleared row) used to be "column 1 (Study):
    # the study label is empty"; the rows after it keep the file's line numbers
    text = "\nStudy,D1,D2,D3,D4,D5,Overall\n,,,,,,\n  \nS2,Low,Low,Bad,Low,Low,Low\n"
    with pytest.raises(ParseError, match=r"^rob.csv:5: column 4 \(D3\)"):
        read_robvis(text, tool=ROB2, path="rob.csv")
    table = read_robvis(text.replace("Bad", "Low"), tool=ROB2, path="rob.csv")
    assert [row.study for row in table.rows] == ["S2"]


def test_building_refuses_wrong_shapes() -> None:
    with pytest.raises(InvalidInput, match="study A: 4 judgements for 5 domains"):
        robvis_table(ROB2, [("A", ["Low"] * 4, "Low", None)])
    with pytest.raises(InvalidInput, match="study A, D3: 'Unclear' is not a ROB2 judgement"):
        robvis_table(ROB2, [("A", ["Low", "Low", "Unclear", "Low", "Low"], "Low", None)])
    with pytest.raises(InvalidInput, match="study A: a weight >= 0 is needed"):
        robvis_table(ROB2, [("A", ["Low"] * 5, "Low", None)], weighted=True)
    with pytest.raises(InvalidInput, match="not a robvis tool"):
        robvis_table("ROBINS-I", [])
