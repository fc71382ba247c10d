"""The AWS target: one client module (`client.py`) through which every AWS call goes."""
