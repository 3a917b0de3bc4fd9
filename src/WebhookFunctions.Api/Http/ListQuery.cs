using System.Globalization;
using Microsoft.AspNetCore.Http;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Paging;

namespace WebhookFunctions.Api.Http;

/// <summary>Reads <c>?limit=</c> and <c>?pageToken=</c>, the paging parameters every list takes.</summary>
public static class ListQuery
{
    public static (int Limit, string? After) Read(HttpRequest request)
    {
        var limit = PageTokens.DefaultLimit;
        var limitValues = request.Query["limit"];
        if (limitValues.Count > 0)
        {
            if (limitValues.Count > 1 || !int.TryParse(limitValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > PageTokens.MaxLimit)
            {
                throw new ValidationException(new ErrorDetail("limit", $"Must be a whole number from 1 to {PageTokens.MaxLimit}"));
            }
        }

        var tokens = request.Query["pageToken"];
        if (tokens.Count > 1)
        {
            throw new ValidationException(new ErrorDetail("pageToken", "Must be given at most once"));
        }

        return (limit, PageTokens.Decode(tokens.Count == 1 ? tokens[0] : null));
    }

    /// <summary>An optional filter given at most once; null when absent.</summary>
    public static string? ReadSingle(HttpRequest request, string name)
    {
        var values = request.Query[name];
        return values.Count switch
        {
            0 => null,
            1 when !string.IsNullOrEmpty(values[0]) => values[0],
            _ => throw new ValidationException(new ErrorDetail(name, "Must be given at most once, and not empty")),
        };
    }
}
