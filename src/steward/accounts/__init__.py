"""People's accounts: password hashing, sign-in and server-side web sessions."""
