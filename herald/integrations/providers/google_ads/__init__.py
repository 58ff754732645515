"""Google Ads for Herald: ``client`` (REST wire client over ``herald.core.http``),
``adapter`` (``GoogleAdsAdapter``, the ``ProviderAdapter``), ``fake`` (``FakeGoogleAds``,
a loopback server speaking the same protocol) and ``gaql`` (the fake's query parser)."""
