"""Places as pure functions: confirm or wait, who is next, which role a plain "I'm in" gets."""
from __future__ import annotations

from mailer.flows.call import places


def signup(pid: int, role: str, status: str) -> dict:
    return {"person_id": pid, "role": role, "status": status, "email": f"p{pid}@x.test", "name": f"P{pid}"}


ROLES = [{"name": "writer", "places": 2, "description": ""}, {"name": "reviewer", "places": 1, "description": ""},
         {"name": "helper", "places": None, "description": ""}]


def test_decide_confirms_while_places_are_left():
    assert [places.decide(2, n) for n in range(4)] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert places.decide(None, 1000) == "confirmed"


def test_board_keeps_arrival_order_and_counts_places_left():
    rows = [signup(1, "writer", "confirmed"), signup(2, "writer", "confirmed"), signup(3, "writer", "waitlisted"),
            signup(4, "writer", "waitlisted")]
    writer = places.board(ROLES, rows)[0]
    assert [s["person_id"] for s in writer.confirmed] == [1, 2]
    assert [s["person_id"] for s in writer.waitlist] == [3, 4]
    assert writer.full and writer.left == 0 and places.position(writer, 4) == 2
    assert places.next_in_line(writer) is None  # full: nobody moves up until someone leaves
    freed = places.board(ROLES, rows[1:])[0]
    assert places.next_in_line(freed)["person_id"] == 3


def test_a_plain_im_in_goes_to_the_role_with_the_most_places_left():
    limited = ROLES[:2]
    assert places.choose_role(places.board(limited, [])) == "writer"
    one_writer = [signup(1, "writer", "confirmed")]
    assert places.choose_role(places.board(limited, one_writer)) == "writer"  # 1 vs 1: first listed
    two_writers = one_writer + [signup(2, "writer", "confirmed")]
    assert places.choose_role(places.board(limited, two_writers)) == "reviewer"
    assert places.choose_role(places.board(ROLES, two_writers)) == "helper"  # unlimited counts as most
    full = two_writers + [signup(3, "reviewer", "confirmed"), signup(4, "writer", "waitlisted")]
    assert places.choose_role(places.board(limited, full)) == "reviewer"  # shortest waitlist


def test_match_role_accepts_forms_of_the_name():
    names = ["writer", "reviewer"]
    assert places.match_role("Writers", names) == "writer"
    assert places.match_role("reviewing", names) == "reviewer"
    assert places.match_role("editor", names) is None


def test_place_lines_say_what_is_left():
    rows = [signup(1, "writer", "confirmed"), signup(2, "reviewer", "confirmed"), signup(3, "reviewer", "waitlisted")]
    lines = [places.place_line(r) for r in places.board(ROLES, rows)]
    assert lines[0] == "writer: 1 of 2 left"
    assert lines[1].startswith("reviewer: full (1 of 1 taken, 1 waiting)")
    assert lines[2] == "helper: open to all (0 so far)"
    assert places.filled(places.board(ROLES[:2], rows)) == "2 of 3 places filled"


def test_a_summary_from_counts_reads_like_the_full_board():
    rows = [signup(1, "writer", "confirmed"), signup(2, "reviewer", "confirmed"), signup(3, "reviewer", "waitlisted")]
    full = places.board(ROLES, rows)
    light = places.summary(ROLES, {"writer": (1, 0), "reviewer": (1, 1)})
    assert [places.place_line(r) for r in light] == [places.place_line(r) for r in full]
    assert places.choose_role(light) == places.choose_role(full) == "helper"
    assert places.filled(light[:2]) == places.filled(full[:2]) == "2 of 3 places filled"
