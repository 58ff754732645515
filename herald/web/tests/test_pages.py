"""The server-rendered pages: sign-in, the campaign list and page, the organization
switcher — tenant-scoped and permission-checked like the API."""

import pytest
from django.test import Client

from herald.testing.factories import make_actor, make_campaign, make_organization

pytestmark = pytest.mark.django_db


def signed_in(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def test_anonymous_visitor_is_sent_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_sign_in_page_renders_with_labels_and_sign_in_works(owner):
    page = Client().get("/login/")
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    client = Client()
    response = client.post(
        "/login/", {"username": owner.user.username, "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_is_refused_with_a_message(owner):
    response = Client().post("/login/", {"username": owner.user.username, "password": "nope"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content


def test_campaign_list_shows_only_this_organizations_campaigns(owner, other_org):
    mine = make_campaign(owner, name="Spicy Jalapeño Chips")
    theirs = make_campaign(make_actor(other_org), name="Rival Crisps")
    response = signed_in(owner).get("/campaigns/")
    assert response.status_code == 200
    assert mine.name.encode() in response.content
    assert theirs.name.encode() not in response.content


def test_campaign_list_filters_by_status_and_search(owner):
    make_campaign(owner, name="Spicy Jalapeño Chips")
    make_campaign(owner, name="Sea Salt Classic")
    response = signed_in(owner).get("/campaigns/", {"q": "salt", "status": "draft"})
    assert b"Sea Salt Classic" in response.content
    assert "Spicy Jalapeño Chips".encode() not in response.content


def test_campaign_page_of_another_organization_is_404(owner, other_org):
    theirs = make_campaign(make_actor(other_org))
    assert signed_in(owner).get(f"/campaigns/{theirs.pk}/").status_code == 404


def test_viewer_reads_the_campaign_page_with_its_log(viewer, owner):
    campaign = make_campaign(owner, name="Spicy Jalapeño Chips")
    response = signed_in(viewer).get(f"/campaigns/{campaign.pk}/")
    assert response.status_code == 200
    assert b"Execution log" in response.content
    assert b"Nothing has happened yet." in response.content


def test_member_of_no_organization_is_told_so():
    from herald.testing.factories import make_user

    client = Client()
    client.force_login(make_user())
    response = client.get("/")
    assert response.status_code == 403
    assert b"not in an organization yet" in response.content


def test_switching_organization_changes_what_the_list_shows(owner):
    second = make_organization("Zesty Brand", owner=owner.user)
    other = make_actor(second)
    make_campaign(other, name="Zesty Brand Launch")
    client = signed_in(owner)
    assert b"Zesty Brand Launch" not in client.get("/campaigns/").content
    response = client.post("/organization/switch/", {"organization_id": str(second.pk)})
    assert response.status_code == 302
    assert b"Zesty Brand Launch" in client.get("/campaigns/").content


def test_switching_to_an_organization_one_is_not_in_is_refused(owner, other_org):
    client = signed_in(owner)
    client.post("/organization/switch/", {"organization_id": str(other_org.pk)})
    response = client.get("/")
    assert response.context["current_organization"] == owner.organization


def test_pages_carry_a_content_security_policy(owner):
    response = signed_in(owner).get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy


def test_no_template_comment_leaks_into_a_page(owner):
    # Django's {# #} comments are single-line: a multi-line one is printed as text.
    for path in ("/", "/campaigns/", "/connections/", "/settings/"):
        response = signed_in(owner).get(path)
        assert response.status_code == 200, path
        assert b"{#" not in response.content and b"#}" not in response.content, path
