namespace strata { int placeholder_symbol = 0; }
