from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class PhoneOrEmailBackend(ModelBackend):
    """Log in with a phone number or an email address and the password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = (username or kwargs.get("email") or kwargs.get("phone") or "").strip()
        if not login or password is None:
            return None
        User = get_user_model()
        # Emails are stored lower-case (UserManager), so both look-ups use their unique indexes.
        user = User.objects.filter(Q(email=login.lower()) | Q(phone=login)).first()
        if user is None:
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user) and user.status != "closed":
            return user
        return None
