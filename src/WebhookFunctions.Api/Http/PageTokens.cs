using System.Buffers.Text;
using System.Text;
using WebhookFunctions.Api.Storage;

namespace WebhookFunctions.Api.Http;

/// <summary>
/// Page tokens carry only the id of the last item returned. The query they resume is always bounded
/// by the caller's own partition and parent, so a token from anyone else reads nothing extra.
/// </summary>
public static class PageTokens
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    public static string Encode(string lastId) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes("v1:" + lastId));

    public static string? Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        try
        {
            if (token.Length <= 128)
            {
                var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
                if (text.StartsWith("v1:", StringComparison.Ordinal) && Ids.IsValid(text[3..]))
                {
                    return text[3..];
                }
            }
        }
        catch (FormatException)
        {
        }

        throw ApiException.BadRequest(new ErrorDetail("pageToken", "Is not a token this API issued"));
    }

    public static (int Limit, string? After) ReadQuery(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        var limit = DefaultLimit;
        var limitValues = request.Query["limit"];
        if (limitValues.Count > 0)
        {
            if (limitValues.Count > 1 || !int.TryParse(limitValues[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit)
                || limit is < 1 or > MaxLimit)
            {
                throw ApiException.BadRequest(new ErrorDetail("limit", $"Must be a whole number from 1 to {MaxLimit}"));
            }
        }

        var tokens = request.Query["pageToken"];
        if (tokens.Count > 1)
        {
            throw ApiException.BadRequest(new ErrorDetail("pageToken", "Must be given at most once"));
        }

        return (limit, Decode(tokens.Count == 1 ? tokens[0] : null));
    }
}
