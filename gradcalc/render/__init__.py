"""Views: functions that take library results and *return* Rich renderables.
The CLI prints them once."""
