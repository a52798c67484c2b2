"""Maps: coordinate systems now; the traffic map and its tiles come with the map pages."""
