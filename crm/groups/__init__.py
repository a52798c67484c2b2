"""Groups (社群): the owners' WeChat groups of an estate, our accounts in them, daily metrics, the deal formula."""
