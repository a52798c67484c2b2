"""Organisation: dealers (经销商), stores (门店) and user accounts."""
