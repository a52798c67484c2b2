"""Battle plans (社群作战规划图): which estates a dealer works, in what order, by whom, when, to what targets."""
