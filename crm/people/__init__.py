"""People (业主, key people, seed users): the relationship ladder, the seven moves, interactions, referrals."""
