"""Reads an iCalendar file with the `icalendar` package and prints its events as JSON.

The participation tests (tests/it/participation.rs) check what a calendar application
would see: `icalendar.Calendar.from_ical` refuses what does not follow RFC 5545, and
each VEVENT's fields are printed as the application reads them (times in UTC, ISO 8601).
"""

import json
import sys

import icalendar


def main(path):
    with open(path, "rb") as file:
        calendar = icalendar.Calendar.from_ical(file.read())
    events = []
    for event in calendar.walk("VEVENT"):
        events.append(
            {
                "uid": str(event.get("UID")),
                "summary": str(event.get("SUMMARY")),
                "description": str(event.get("DESCRIPTION", "")),
                "location": str(event.get("LOCATION", "")),
                "url": str(event.get("URL", "")),
                "status": str(event.get("STATUS", "")),
                "start": event.decoded("DTSTART").isoformat(),
                "end": event.decoded("DTEND").isoformat(),
            }
        )
    print(
        json.dumps(
            {
                "version": str(calendar.get("VERSION")),
                "name": str(calendar.get("X-WR-CALNAME", "")),
                "events": events,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
