"""Language selection: Spanish (Chile) unless the user or API client asks for another."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class SpanishFirstLocaleMiddleware(LocaleMiddleware):
    """Activate Spanish for every screen unless the user chose another language.

    Pages follow the language cookie, which the language selector sets through
    ``/i18n/setlang/``, and ignore the browser's Accept-Language: staff whose
    browser is set to English still get the service's Spanish screens until
    they choose English. API clients follow Accept-Language, as REST clients
    expect.
    """

    api_prefix = "/api/"

    def process_request(self, request):
        if request.path.startswith(self.api_prefix):
            language = translation.get_language_from_request(request)
        else:
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            language = chosen if chosen and translation.check_for_language(chosen) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
