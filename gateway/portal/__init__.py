"""The citizen portal: the gateway's own pages where credit subjects decide on consents
(Art. 39, 61(2), 62) - server-rendered, in Simplified Chinese by default, no script."""
