"""Records transfers between districts of a region (34 CFR 99.31(a)(2), 99.34; P2): a registrar's
request, identity matching, the engine's decision, delivery from the source, the parent notice."""
