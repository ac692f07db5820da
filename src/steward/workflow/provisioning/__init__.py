"""Vendor provisioning feeds: school-official contracts delivered as OneRoster bulk then deltas."""
