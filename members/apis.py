"""Partner API for members: create, look up, read, update, bind identities.

Thin views: nested Input/Output serializers validate and shape; services write.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import idempotent
from core.api.pagination import CursorPagination
from core.api.permissions import partner_of
from core.api.schema import problem_response

from . import selectors, services
from .forms import PHONE_RE

GENDERS = ["", "male", "female", "other"]


def validate_phone(value: str) -> str:
    from .services.codes import normalise_phone

    phone = normalise_phone(value)
    if phone and not PHONE_RE.match(phone):
        raise serializers.ValidationError(
            "Enter a mainland China mobile number: 11 digits matching 1[3-9]XXXXXXXXX."
        )
    return phone


def validate_birthday(value):
    if value and value > timezone.localdate():
        raise serializers.ValidationError("The birthday cannot be in the future.")
    return value


class MemberOutputSerializer(serializers.Serializer):
    member_id = serializers.CharField()
    external_id = serializers.SerializerMethodField()
    phone = serializers.CharField(allow_null=True)
    email = serializers.EmailField(allow_null=True)
    name = serializers.CharField(source="nickname")
    birthday = serializers.DateField(allow_null=True)
    gender = serializers.CharField()
    region = serializers.CharField()
    occupation = serializers.CharField()
    channel = serializers.CharField()
    status = serializers.CharField()
    lifecycle_stage = serializers.CharField()
    verification_level = serializers.CharField()
    phone_verified = serializers.SerializerMethodField()
    email_verified = serializers.SerializerMethodField()
    referral_code = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField(source="date_joined")

    def get_external_id(self, member) -> str | None:
        external_ids = self.context.get("external_ids")
        if external_ids is not None:
            return external_ids.get(member.pk)
        return selectors.member_external_id(member=member, partner=self.context.get("partner"))

    def get_phone_verified(self, member) -> bool:
        return member.phone_verified_at is not None

    def get_email_verified(self, member) -> bool:
        return member.email_verified_at is not None


def _output(member, request, **context) -> dict:
    return MemberOutputSerializer(member, context={"partner": partner_of(request), **context}).data


class MemberCollectionApi(APIView):
    """POST /members (create) and GET /members?phone=&email=&external_id= (look-up)."""

    required_scopes = {"GET": ["members:read"], "POST": ["members:write"]}

    class CreateInputSerializer(serializers.Serializer):
        external_id = serializers.CharField(max_length=128)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
        name = serializers.CharField(max_length=50, required=False, allow_blank=True)
        birthday = serializers.DateField(required=False, allow_null=True, validators=[validate_birthday])
        gender = serializers.ChoiceField(choices=GENDERS, required=False, allow_blank=True)
        region = serializers.CharField(max_length=50, required=False, allow_blank=True)
        channel = serializers.CharField(max_length=30, required=False, allow_blank=True)
        referral_code = serializers.CharField(max_length=16, required=False, allow_blank=True)

        def validate_phone(self, value):
            return validate_phone(value)

        def validate(self, attrs):
            if not attrs.get("phone") and not attrs.get("email"):
                message = "Give a phone number or an email address."
                raise ValidationError({"phone": [message], "email": [message]})
            return attrs

    class LookupInputSerializer(serializers.Serializer):
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        external_id = serializers.CharField(max_length=128, required=False, allow_blank=True)

        def validate(self, attrs):
            if not any(attrs.get(k) for k in ("phone", "email", "external_id")):
                raise ValidationError({"query": ["Give at least one of phone, email, external_id."]})
            return attrs

    class Pagination(CursorPagination):
        ordering = "-id"

    @extend_schema(
        summary="Create a member",
        description="An existing external_id (or phone/email) is 409 `member_exists` with `member_id`.",
        request=CreateInputSerializer,
        responses={
            201: MemberOutputSerializer,
            409: problem_response(
                409, "member_exists", description="Carries `member_id` of the existing member."
            ),
        },
        tags=["members"],
    )
    @idempotent()
    def post(self, request):
        serializer = self.CreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        member = services.member_create_for_partner(
            partner=partner_of(request),
            external_id=data["external_id"],
            phone=data.get("phone", ""),
            email=data.get("email", ""),
            name=data.get("name", ""),
            birthday=data.get("birthday"),
            gender=data.get("gender", ""),
            region=data.get("region", ""),
            channel=data.get("channel", ""),
            referral_code=data.get("referral_code", ""),
        )
        return Response(_output(member, request), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Look up members by phone, email or your external id",
        parameters=[
            OpenApiParameter("phone", str),
            OpenApiParameter("email", str),
            OpenApiParameter("external_id", str),
        ],
        responses={200: MemberOutputSerializer(many=True)},
        tags=["members"],
    )
    def get(self, request):
        serializer = self.LookupInputSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        partner = partner_of(request)
        qs = selectors.member_lookup(partner=partner, **serializer.validated_data)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        external_ids = selectors.member_external_ids(members=page, partner=partner)
        data = MemberOutputSerializer(
            page, many=True, context={"partner": partner, "external_ids": external_ids}
        ).data
        return paginator.get_paginated_response(data)


class MemberDetailApi(APIView):
    """GET / PATCH /members/{member} — `member_id` or `ext:<your external id>`."""

    required_scopes = {"GET": ["members:read"], "PATCH": ["members:write"]}

    class UpdateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50, required=False, allow_blank=True)
        birthday = serializers.DateField(required=False, allow_null=True, validators=[validate_birthday])
        gender = serializers.ChoiceField(choices=GENDERS, required=False, allow_blank=True)
        region = serializers.CharField(max_length=50, required=False, allow_blank=True)
        occupation = serializers.CharField(max_length=50, required=False, allow_blank=True)

    @extend_schema(summary="Read a member", responses={200: MemberOutputSerializer}, tags=["members"])
    def get(self, request, member: str):
        found = selectors.member_resolve(partner=partner_of(request), ref=member)
        return Response(_output(found, request))

    @extend_schema(
        summary="Update a member's profile",
        request=UpdateInputSerializer,
        responses={200: MemberOutputSerializer},
        tags=["members"],
    )
    def patch(self, request, member: str):
        found = selectors.member_resolve(partner=partner_of(request), ref=member)
        serializer = self.UpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "name" in changes:
            changes["nickname"] = changes.pop("name")
        if changes:
            found = services.member_profile_update(
                member=found, actor_type="partner", actor=request.user, **changes
            )
        return Response(_output(found, request))


class MemberIdentityBindApi(APIView):
    """POST /members/{member}/identities — bind {provider, subject} to the member."""

    required_scopes = ["members:write"]

    class InputSerializer(serializers.Serializer):
        provider = serializers.RegexField(r"^[a-z0-9_.-]{1,30}$", max_length=30)
        subject = serializers.CharField(max_length=128)

    class OutputSerializer(serializers.Serializer):
        member_id = serializers.CharField(source="member.member_id")
        provider = serializers.CharField()
        subject = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        summary="Bind an external identity",
        request=InputSerializer,
        responses={201: OutputSerializer, 409: problem_response(409, "identity_exists")},
        tags=["members"],
    )
    @idempotent()
    def post(self, request, member: str):
        partner = partner_of(request)
        found = selectors.member_resolve(partner=partner, ref=member)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = services.member_identity_bind(member=found, partner=partner, **serializer.validated_data)
        return Response(self.OutputSerializer(identity).data, status=status.HTTP_201_CREATED)


class VerificationCodeSendApi(APIView):
    """POST /verification-codes — send a 6-digit code by SMS or email for a partner's own
    sign-up or log-in screens. Rate limited exactly like the member centre: per phone/email
    (1 a minute, 10 a day) and per end-user IP (20 an hour, when `client_ip` is given)."""

    required_scopes = ["members:write"]

    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=["sms", "email"])
        target = serializers.CharField(
            max_length=254, help_text="Phone number (sms) or email address (email)."
        )
        purpose = serializers.ChoiceField(choices=["register", "login", "reset", "verify_contact"])
        client_ip = serializers.IPAddressField(required=False, help_text="The end user's IP address.")

        def validate(self, attrs):
            if attrs["channel"] == "sms":
                try:
                    attrs["target"] = validate_phone(attrs["target"])
                except serializers.ValidationError as exc:
                    raise ValidationError({"target": exc.detail})
            else:
                attrs["target"] = serializers.EmailField().run_validation(attrs["target"]).lower()
            return attrs

    class OutputSerializer(serializers.Serializer):
        channel = serializers.CharField()
        target = serializers.CharField()
        purpose = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(
        summary="Send a one-time code",
        request=InputSerializer,
        responses={202: OutputSerializer, 429: problem_response(429, "rate_limited")},
        tags=["members"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        issued = services.code_issue(
            channel=data["channel"], target=data["target"], purpose=data["purpose"], ip=data.get("client_ip")
        )
        return Response(self.OutputSerializer(issued.row).data, status=status.HTTP_202_ACCEPTED)


class VerificationCodeCheckApi(APIView):
    """POST /verification-codes/verify — consume a code; tells which member owns the target."""

    required_scopes = ["members:write"]

    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=["sms", "email"])
        target = serializers.CharField(max_length=254)
        purpose = serializers.ChoiceField(choices=["register", "login", "reset", "verify_contact"])
        code = serializers.RegexField(r"^\d{6}$", max_length=6)

    class OutputSerializer(serializers.Serializer):
        verified = serializers.BooleanField()
        member_id = serializers.CharField(
            allow_null=True, help_text="The member using this phone/email, if any."
        )

    @extend_schema(
        summary="Check a one-time code",
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: problem_response(400, "code_invalid", "code_expired", "code_attempts_exceeded"),
        },
        tags=["members"],
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row = services.code_verify(
            channel=data["channel"], target=data["target"], purpose=data["purpose"], code=data["code"]
        )
        member_id = selectors.member_id_for_contact(channel=row.channel, target=row.target)
        return Response(self.OutputSerializer({"verified": True, "member_id": member_id}).data)
