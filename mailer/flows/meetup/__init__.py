"""Report-back meetups as real calendar invitations, one module per job.

- ``definition``: the meetup file (TOML, unknown keys refused), who ``invite`` names, and a
  challenge's or charter's ``[report_back]`` table;
- ``actions``: schedule, move, cancel, add a speaker, record attendance (store changes only);
- ``flow``: what is due at ``now`` (``due``) and what an answer means (``handle_reply``);
- ``rsvp``: pure rules for answers (versions, DTSTAMP order, whose answer it is);
- ``emails``: each email's context and its iCalendar part (templates in ``templates/meetup/``);
- ``native``: the meetup as an Exchange or Graph calendar event (``native_meetings``), answers read back;
- ``invitees``: who the mail and the event go to;
- ``digest``: what sponsors read about meetups.
"""
from mailer.flows.meetup.actions import add_speaker, remove_speaker, schedule_meetup
from mailer.flows.meetup.digest import digest_items, sponsor_emails
from mailer.flows.meetup.flow import due, handle_reply, keep_unattributed
from mailer.flows.meetup.native import meetups_to_mirror as calendar_items
from mailer.flows.meetup.native import mirror as mirror_calendar

__all__ = ["add_speaker", "calendar_items", "digest_items", "due", "handle_reply", "keep_unattributed",
           "mirror_calendar", "remove_speaker", "schedule_meetup", "sponsor_emails"]
