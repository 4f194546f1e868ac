from datetime import UTC, datetime

# A moment at the start of a 30-second TOTP step, for tests that freeze the clock (time_machine, tick=False).
START = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
