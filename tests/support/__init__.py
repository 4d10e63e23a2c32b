"""Helpers shared by the tests: servers, apps, factories, files on disk, the API test world."""
