"""Meta Ads (Marketing API over Graph): ``client`` speaks the wire, ``adapter`` implements
``ProviderAdapter`` on it, and ``fake`` serves the same protocol on loopback."""
