using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionSidecar.Overlay;

/// <summary>Source-generated JSON for everything the overlay server sends or reads (camelCase, web defaults).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(OverlayCaption))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(IReadOnlyList<LanguageState>))]
[JsonSerializable(typeof(LanguageState))]
[JsonSerializable(typeof(LanguageToggleRequest))]
[JsonSerializable(typeof(SpeakerToggleRequest))]
[JsonSerializable(typeof(ApiError))]
public sealed partial class OverlayJsonContext : JsonSerializerContext;

/// <summary>Error body of the control API: what is wrong and what to do.</summary>
/// <param name="Error">A sentence a person can act on.</param>
public sealed record ApiError(string Error);
