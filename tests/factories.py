"""factory_boy factories for the tests."""

from datetime import date

import factory

from portal.models import (
    Certification,
    HeldCertification,
    Invitation,
    LegacyCompetency,
    Membership,
    Organization,
    OrganizationLegacyCompetency,
    Person,
    User,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-staple")

    @factory.post_generation
    def verified(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Give the user a verified primary address, as allauth expects after sign-up."""
        if not create:
            return
        from allauth.account.models import EmailAddress

        self.save()
        EmailAddress.objects.create(user=self, email=self.email, primary=True, verified=True)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    partner_id = factory.Sequence(lambda n: f"{1000000 + n}")
    name = factory.Sequence(lambda n: f"Contoso Partner {n}")
    slug = factory.Sequence(lambda n: f"contoso-partner-{n}")
    country = "US"
    renewal_date = date(2026, 10, 1)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.MEMBER


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organization = factory.SubFactory(OrganizationFactory)
    person_id = factory.Sequence(lambda n: f"P{n:05d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda p: f"{p.person_id.lower()}@example.com")


class HeldCertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HeldCertification

    person = factory.SubFactory(PersonFactory)
    organization = factory.SelfAttribute("person.organization")
    certification = factory.LazyFunction(lambda: Certification.objects.get(code="AZ-500"))
    earned_on = date(2024, 1, 15)
    expires_on = None


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Membership.Role.MEMBER
    invited_by = None


class LegacyCompetencyHeldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganizationLegacyCompetency

    organization = factory.SubFactory(OrganizationFactory)
    competency = factory.LazyFunction(lambda: LegacyCompetency.objects.get(code="security"))
    level = OrganizationLegacyCompetency.Level.GOLD
