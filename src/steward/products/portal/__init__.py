"""Partner and school views: the 12-report package (Automated Data Report) and Student-at-a-Glance.

Everything here starts from the decision engine's set for the viewer at an instant
(``steward.store.visibility``) and reads only those students' records from the district's source at
request time (``lines``); nothing is kept. ``catalog`` names the reports and their columns,
``rows`` builds them (pure), ``package`` writes CSV and XLSX and records the disclosures,
``glance`` and ``charts`` make the per-student page, ``lists`` the searchable student lists.
"""
