"""Paperwork as data: agreements, consents, grants, trainings, opt-outs and the other facts
the decision engine reads."""
