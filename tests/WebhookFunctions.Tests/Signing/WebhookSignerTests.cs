using System.Text;
using WebhookFunctions.Core.Signing;

namespace WebhookFunctions.Tests.Signing;

public sealed class WebhookSignerTests
{
    [Fact]
    public void Reproduces_the_published_standard_webhooks_vector()
    {
        var signature = WebhookSigner.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
            Encoding.UTF8.GetBytes("{\"test\": 2432232314}"), ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void Reproduces_a_vector_computed_by_the_official_javascript_library()
    {
        // Computed with the spec's official library, npm standardwebhooks@1.1.1:
        // new Webhook(secret).sign(id, new Date(1735689600 * 1000), body). It covers a 32-byte key
        // and a body with multi-byte UTF-8, which the published vector does not.
        var signature = WebhookSigner.Sign("msg_2bGQpWJLRuDtb8iJq0XyMxRWdQZ", 1735689600,
            Encoding.UTF8.GetBytes("{\"type\":\"webhook.test\",\"data\":{\"note\":\"café ☃\"}}"),
            ["whsec_2ACeu3KnI9ZxwP/Tv4Pm9X4k79Dd/T1ZWp3NpV2Jc+0="]);

        Assert.Equal("v1,DnZkmlkehwF/hfnTyxZwrI61DOphFpa9s2pAPgHT2DA=", signature);
    }

    [Fact]
    public void Several_secrets_give_space_separated_signatures_in_order()
    {
        var body = Encoding.UTF8.GetBytes("{\"test\": 2432232314}");
        var first = WebhookSigner.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
        var second = WebhookSigner.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, ["whsec_2ACeu3KnI9ZxwP/Tv4Pm9X4k79Dd/T1ZWp3NpV2Jc+0="]);

        var both = WebhookSigner.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
            ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_2ACeu3KnI9ZxwP/Tv4Pm9X4k79Dd/T1ZWp3NpV2Jc+0="]);

        Assert.Equal($"{first} {second}", both);
    }

    [Fact]
    public void Generated_secrets_are_32_random_bytes_in_padded_base64()
    {
        var secrets = Enumerable.Range(0, 50).Select(_ => SigningSecret.Generate()).ToList();

        Assert.All(secrets, s => Assert.Equal(32, Convert.FromBase64String(s["whsec_".Length..]).Length));
        Assert.All(secrets, s => Assert.Equal(6 + 44, s.Length));
        Assert.Equal(50, secrets.Distinct().Count());
    }
}
