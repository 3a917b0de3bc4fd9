using System.Text.Json;
using Microsoft.Extensions.Options;
using WebhookFunctions.Core.Events;
using WebhookFunctions.Core.Failures;
using WebhookFunctions.Core.Validation;

namespace WebhookFunctions.Core.Webhooks;

/// <summary>
/// Reads webhook bodies field by field. Every problem is collected, so one 400 lists them all;
/// read-only and unknown properties are refused rather than silently ignored.
/// </summary>
public sealed class WebhookValidator(IOptions<WebhookOptions> options, EventCatalog catalog)
{
    public const int MaxDescriptionLength = 500;
    public const int MaxEvents = 100;
    public const int MaxRateLimitPerSecond = 1000;
    private const string RateLimitField = "rateLimitPerSecond";

    private static readonly HashSet<string> ReadOnly = new(StringComparer.Ordinal)
    {
        "id", "applicationId", "signingSecret", "keyFingerprint", "lastTestAt", "lastTestStatus", "createdAt", "updatedAt",
        "disabledReason", "disabledAt", "successCount", "failureCount", "lastDeliveryAt", "lastDeliveryStatus",
    };

    private readonly WebhookOptions _options = options.Value;

    public WebhookDraft ParseCreate(JsonElement body)
    {
        var errors = new List<ErrorDetail>();
        string? url = null;
        string? description = null;
        var isActive = true;
        IReadOnlyList<string> events = [EventCatalog.All];
        int? rateLimit = null;
        var sawUrl = false;

        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "url":
                    sawUrl = true;
                    url = ReadUrl(property.Value, errors);
                    break;
                case "description":
                    description = ReadDescription(property.Value, errors);
                    break;
                case "isActive":
                    isActive = JsonFields.ReadBoolean(property.Value, "isActive", errors) ?? isActive;
                    break;
                case "subscribedEvents":
                    events = property.Value.ValueKind == JsonValueKind.Null ? events : ReadEvents(property.Value, errors) ?? events;
                    break;
                case RateLimitField:
                    rateLimit = ReadRateLimit(property.Value, errors);
                    break;
                default:
                    errors.Add(Unrecognised(property.Name));
                    break;
            }
        }

        if (!sawUrl)
        {
            errors.Add(new ErrorDetail("url", "Is required"));
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : new WebhookDraft(url!, description, isActive, events, rateLimit);
    }

    public WebhookPatch ParsePatch(JsonElement body)
    {
        var errors = new List<ErrorDetail>();
        string? url = null;
        string? description = null;
        var hasDescription = false;
        bool? isActive = null;
        IReadOnlyList<string>? events = null;
        var hasRateLimit = false;
        int? rateLimit = null;
        var recognised = 0;

        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "url":
                    recognised++;
                    url = ReadUrl(property.Value, errors);
                    break;
                case "description":
                    recognised++;
                    hasDescription = true;
                    description = ReadDescription(property.Value, errors);
                    break;
                case "isActive":
                    recognised++;
                    isActive = JsonFields.ReadBoolean(property.Value, "isActive", errors);
                    break;
                case "subscribedEvents":
                    recognised++;
                    events = ReadEvents(property.Value, errors);
                    break;
                case RateLimitField:
                    recognised++;
                    hasRateLimit = true;
                    rateLimit = ReadRateLimit(property.Value, errors);
                    break;
                default:
                    errors.Add(Unrecognised(property.Name));
                    break;
            }
        }

        if (recognised == 0 && errors.Count == 0)
        {
            errors.Add(new ErrorDetail("body", "Must contain at least one of url, description, isActive, subscribedEvents, rateLimitPerSecond"));
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : new WebhookPatch(url, hasDescription, description, isActive, events, hasRateLimit, rateLimit);
    }

    public const int MaxGracePeriodSeconds = 604800;
    public const int DefaultGracePeriodSeconds = 86400;

    /// <summary>The optional rotation body: <c>{"gracePeriodSeconds": 0..604800}</c>, default one day.</summary>
    public static TimeSpan ParseRotation(JsonElement? body)
    {
        var seconds = DefaultGracePeriodSeconds;
        var errors = new List<ErrorDetail>();
        foreach (var property in PropertiesOf(body))
        {
            if (property.Name != "gracePeriodSeconds")
            {
                errors.Add(Unrecognised(property.Name));
            }
            else if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out seconds)
                     || seconds is < 0 or > MaxGracePeriodSeconds)
            {
                errors.Add(new ErrorDetail("gracePeriodSeconds", $"Must be a whole number from 0 to {MaxGracePeriodSeconds}"));
            }
        }

        return errors.Count > 0 ? throw new ValidationException(errors) : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>For operations whose body, if any, must be an empty object.</summary>
    public static void RequireNoProperties(JsonElement? body)
    {
        var errors = PropertiesOf(body).Select(p => Unrecognised(p.Name)).ToList();
        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }
    }

    private static IEnumerable<JsonProperty> PropertiesOf(JsonElement? body) =>
        body is { } element ? element.EnumerateObject() : [];

    private string? ReadUrl(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new ErrorDetail("url", "Must be a string"));
            return null;
        }

        var raw = JsonFields.ReadString(value, "url", errors);
        if (raw is null)
        {
            return null;
        }

        var uri = WebhookUrlRules.Check(raw, _options.AllowInsecureUrls, _options.AllowPrivateNetworks, out var error);
        if (uri is null)
        {
            errors.Add(new ErrorDetail("url", error!));
            return null;
        }

        return WebhookUrlRules.Normalize(uri);
    }

    private static string? ReadDescription(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(new ErrorDetail("description", "Must be a string or null"));
            return null;
        }

        var text = JsonFields.ReadString(value, "description", errors);
        if (text is null)
        {
            return null;
        }

        if (text.EnumerateRunes().Count() > MaxDescriptionLength)
        {
            errors.Add(new ErrorDetail("description", $"Must be at most {MaxDescriptionLength} characters"));
        }
        else if (text.Any(char.IsControl))
        {
            errors.Add(new ErrorDetail("description", "Must not contain control characters"));
        }

        return text;
    }

    /// <summary>Null (no limit) or a whole number of attempts per second; a string or a fraction is refused, not rounded.</summary>
    private static int? ReadRateLimit(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var rate) || rate is < 1 or > MaxRateLimitPerSecond)
        {
            errors.Add(new ErrorDetail(RateLimitField, $"Must be null or a whole number from 1 to {MaxRateLimitPerSecond}"));
            return null;
        }

        return rate;
    }

    private IReadOnlyList<string>? ReadEvents(JsonElement value, List<ErrorDetail> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new ErrorDetail("subscribedEvents", "Must be an array of event type names"));
            return null;
        }

        if (value.GetArrayLength() > MaxEvents)
        {
            errors.Add(new ErrorDetail("subscribedEvents", $"Must have at most {MaxEvents} entries"));
            return null;
        }

        var names = new List<string>();
        var unknown = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || JsonFields.ReadString(item, "subscribedEvents", errors) is not { } name)
            {
                errors.Add(new ErrorDetail("subscribedEvents", "Every entry must be a string"));
                return null;
            }

            if (name != EventCatalog.All && !catalog.Contains(name))
            {
                unknown.Add(JsonFields.Shown(name, 100));
            }
            else if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        if (unknown.Count > 0)
        {
            errors.Add(new ErrorDetail("subscribedEvents", "Unknown event types: " + string.Join(", ", unknown.Distinct(StringComparer.Ordinal))));
            return null;
        }

        return names.Count == 0 || names.Contains(EventCatalog.All) ? [EventCatalog.All] : names;
    }

    private static ErrorDetail Unrecognised(string name) => JsonFields.Unrecognised(name, ReadOnly.Contains(name));
}
