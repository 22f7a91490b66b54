"""Neural-network functions (use as ``import retrograd.nn.functional as F``)."""
