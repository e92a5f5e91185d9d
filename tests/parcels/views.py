from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .models import Parcel


@login_required
def mine(request):
    return render(request, "parcels/mine.html", {"parcels": Parcel.objects.filter(recipient=request.user)})
