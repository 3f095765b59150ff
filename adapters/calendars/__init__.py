"""Calendar feeds (ICS) for rep availability: :mod:`.ics` turns a feed into the core's
:class:`connector.core.calendar.CalendarEvent` occurrences, :mod:`.feed` fetches a feed
politely (ETag / If-Modified-Since) and keeps the last good copy when it fails."""
