"""One way to write dates on every page, in the admin and in the pages' JavaScript (static/js/dates.js).

Unambiguous for readers on both sides of the Atlantic: "4 Dec 2026" and "4 Dec 2026, 22:35".
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
