"""Shared by every admin action that changes state."""
from django.contrib import messages

from pressroom.core.errors import PressroomError


def each_through_service(modeladmin, request, queryset, service, done: str) -> None:
    """Admin actions call the same services as every other entry path, one object at a
    time, and report refusals instead of hiding them."""
    succeeded = 0
    for obj in queryset:
        try:
            service(obj)
            succeeded += 1
        except PressroomError as error:
            modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
    if succeeded:
        modeladmin.message_user(request, f"{succeeded} {done}.", messages.SUCCESS)
