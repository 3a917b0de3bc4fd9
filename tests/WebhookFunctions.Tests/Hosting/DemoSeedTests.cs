using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using WebhookFunctions.Development;
using WebhookFunctions.Tests.Infrastructure;

namespace WebhookFunctions.Tests.Hosting;

/// <summary>
/// What the first local start prints: shell lines with the README's names that can be pasted as they
/// stand, and whose values work. The only test that seeds the demo data into the shared Azurite.
/// </summary>
[Collection(ApiTestGroup.Name)]
public sealed partial class DemoSeedTests(ApiFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [GeneratedRegex(@"^KEY=(?<value>wk_live_[A-Za-z0-9]{49})$", RegexOptions.Multiline)]
    private static partial Regex KeyLine();

    [GeneratedRegex(@"^APP=(?<value>[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12})$", RegexOptions.Multiline)]
    private static partial Regex AppLine();

    [GeneratedRegex(@"^BASE=(?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex BaseLine();

    [Fact]
    public async Task The_first_start_prints_KEY_APP_and_BASE_lines_and_curl_lines_that_use_them_and_later_starts_print_APP_again()
    {
        var first = await StartSeedingHostAsync();
        await first.WaitForOutputAsync(line => line.StartsWith("curl -i $BASE/v1/applications/$APP/webhooks -H", StringComparison.Ordinal), Deadline);
        string output;
        string key;
        string app;
        await using (first)
        {
            output = Normalize(first.Output);
            key = Assert.Single(KeyLine().Matches(output)).Groups["value"].Value;
            app = Assert.Single(AppLine().Matches(output)).Groups["value"].Value;
            var baseUrl = Assert.Single(BaseLine().Matches(output)).Groups["value"].Value;
            Assert.Equal(first.BaseAddress + "api", baseUrl);

            // The pasteable block: from KEY= to the blank line after it, every line shell, the key only in KEY=.
            var block = output[output.IndexOf("\nKEY=", StringComparison.Ordinal)..].Trim().Split("\n\n")[0].Split('\n');
            Assert.Equal(
                [
                    $"KEY={key}",
                    $"APP={app}",
                    $"BASE={baseUrl}",
                    """curl -i -X POST $BASE/v1/applications/$APP/webhooks -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d '{"url":"https://example.com/webhooks"}'""",
                    "curl -i $BASE/v1/applications/$APP/webhooks -H \"Authorization: Bearer $KEY\"",
                ],
                block);
            Assert.Single(Regex.Matches(output, Regex.Escape(key)));

            // What the first curl line does, with the printed values.
            using var client = new HttpClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var created = await client.PostAsync(
                new Uri($"{baseUrl}/v1/applications/{app}/webhooks"),
                new StringContent("""{"url":"https://example.com/webhooks"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var second = await StartSeedingHostAsync();
        await second.WaitForOutputAsync(line => line.StartsWith("dotnet run --project src/WebhookFunctions.Admin", StringComparison.Ordinal), Deadline);
        var again = Normalize(second.Output);
        Assert.Contains("Demo data already exists", again, StringComparison.Ordinal);
        Assert.Equal(app, Assert.Single(AppLine().Matches(again)).Groups["value"].Value);
        Assert.Empty(KeyLine().Matches(again));
        Assert.DoesNotContain(key, again, StringComparison.Ordinal);
    }

    private async Task<StandaloneProcess> StartSeedingHostAsync()
    {
        var port = AzuriteProcess.FreePort();
        return await StandaloneProcess.StartAsync(
            AppContext.BaseDirectory,
            [
                $"Storage:ConnectionString={fixture.ConnectionString}",
                $"LocalSecrets:Key={TestHost.LocalSecretsKey}",
                "Development:SeedDemo=true",
                $"Development:PublicBaseUrl=http://127.0.0.1:{port}",
                "Webhooks:AllowInsecureUrls=true",
                "Webhooks:AllowPrivateNetworks=true",
            ],
            port,
            CancellationToken.None);
    }

    private static string Normalize(string output) => output.Replace("\r", string.Empty, StringComparison.Ordinal);
}
