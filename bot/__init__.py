"""Lotsenbot core: configuration, storage, domain, services, i18n."""
