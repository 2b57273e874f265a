import factory
from django.contrib.auth import get_user_model

from pressroom.accounts.models import Membership, Role, Workspace


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


def member(workspace: Workspace, role: str, username: str):
    """A user with `role` in `workspace` (the password is UserFactory's)."""
    return MembershipFactory(workspace=workspace, role=role, user=UserFactory(username=username)).user


def access_of(user, workspace: Workspace):
    """The user's Access in the workspace (None when they hold no role there)."""
    from pressroom.accounts.access import access_for_user

    return access_for_user(user=user, workspace=workspace)
