using System.Text.RegularExpressions;
using WebhookFunctions.Api.Http;

namespace WebhookFunctions.Tests.Hosting;

public sealed partial class RequestsFileTests
{
    [GeneratedRegex(@"^###\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [Fact]
    public void Requests_http_has_a_request_for_every_operation()
    {
        var text = File.ReadAllText(Path.Combine(OperationParityTests.RepositoryRoot(), "requests.http"));

        var named = Heading().Matches(text).Select(m => m.Groups[1].Value).ToHashSet();

        Assert.Equal(ApiOperations.All.Select(o => o.Name).Order(), named.Order());
    }
}
