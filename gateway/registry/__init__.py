"""The registries the regulator keeps: parties, agencies' legal bases, purposes of consent."""
