"""The change stream's parser alone: what a reconnect resumes from."""

from secrets_ledger.event_stream import EventStreamParser


def feed_all(parser, lines):
    return [event for event in (parser.feed(line) for line in lines) if event is not None]


def test_an_event_cut_off_before_its_blank_line_does_not_move_the_resume_point():
    parser = EventStreamParser(last_id="4")
    events = feed_all(parser, ["id: 5", "event: change", 'data: {"key": "A"}', ""])
    assert [event.id for event in events] == ["5"]
    assert parser.last_id == "5"
    # The stream ends inside the next event: its id was read, the event never ended.
    assert feed_all(parser, ["id: 6", "event: change"]) == []
    assert parser.last_id == "5"


def test_ids_heartbeats_and_retry():
    parser = EventStreamParser()
    events = feed_all(parser, [": heartbeat", "retry: 2500", "id: 7", "event: change", "data: {}", "", ": heartbeat"])
    assert [(event.event, event.id, event.data) for event in events] == [("change", "7", "{}")]
    assert (parser.last_id, parser.retry_ms) == ("7", 2500)
