"""ALFWorld's display names: numbering counts down over sorted ids, basins get their own kind."""

from proxmo_bench.envs.alfworld.fast.naming import display_names


def test_numbers_count_down_over_sorted_ids() -> None:
    ids = [
        "alarmclock_bar__plus_02_dot_04_bar__plus_00_dot_90",
        "alarmclock_bar__minus_02_dot_48_bar__plus_00_dot_68",
        "alarmclock_bar__plus_02_dot_69_bar__plus_01_dot_23",
        "bed_bar__plus_02_dot_40",
    ]
    names = display_names(ids)
    # sorted: minus_02.48 < plus_02.04 < plus_02.69 -> 3, 2, 1
    assert names["alarmclock_bar__minus_02_dot_48_bar__plus_00_dot_68"] == "alarmclock 3"
    assert names["alarmclock_bar__plus_02_dot_04_bar__plus_00_dot_90"] == "alarmclock 2"
    assert names["alarmclock_bar__plus_02_dot_69_bar__plus_01_dot_23"] == "alarmclock 1"
    assert names["bed_bar__plus_02_dot_40"] == "bed 1"


def test_basin_ids_are_their_own_kind() -> None:
    names = display_names(
        ["sink_bar__minus_01_dot_99_bar_sinkbasin", "sink_bar__plus_00_dot_10", "agent1"]
    )
    assert names["sink_bar__minus_01_dot_99_bar_sinkbasin"] == "sinkbasin 1"
    assert names["sink_bar__plus_00_dot_10"] == "sink 1"
    assert names["agent1"] == "agent1 "  # unnumbered ids keep their text and a trailing space
