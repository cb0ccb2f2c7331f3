"""The intake of customs notifications: feeds pulled, each notification archived raw, then published as a CloudEvent
keyed by case id (``records.py``: the wire format; ``puller.py``: one feed's loop; ``ownership.py``: which instance
pulls which feed; ``service.py``: the ``Intake`` the gateway starts and stops)."""
