"""The credit subject's rights and the obligations downstream of them (Art. 63-67, 70(8)).

* :mod:`gateway.rights.objections` - objections filed, labelled, answered (Art. 64);
* :mod:`gateway.rights.restoration` - credit restoration decisions (Art. 66);
* :mod:`gateway.rights.notices` - deletion notices to the establishments that received an item
  whose display stopped, and their acknowledgements (Art. 67, 70(8));
* :mod:`gateway.rights.oversight` - missed deadlines per party, for regulators (Art. 64, 65, 67);
* :mod:`gateway.rights.deadlines` - working days on the holiday calendar;
* :mod:`gateway.rights.scheduler` - the periodic jobs, leased per job across processes;
* :mod:`gateway.rights.service` - the desk they act with and how each step is registered;
* :mod:`gateway.rights.models`, :mod:`gateway.rights.repository` - their tables and queries.

The right to know (Art. 63) needs nothing of its own: the self inquiry, the consents and the
access log already show every item with its source and changes, every consent with its uses
and every query (see the README, "Subject rights").
"""
