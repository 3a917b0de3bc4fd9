using System.Buffers.Text;
using System.Text;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Storage;

namespace WebhookFunctions.Core.Paging;

public sealed record Page<T>(IReadOnlyList<T> Items, string? NextPageToken);

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

        throw new ValidationException(new ErrorDetail("pageToken", "Is not a token this API issued"));
    }
}
