"""Members: enrolment, identifiers and the digital loyalty card."""
