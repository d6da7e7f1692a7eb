using CaptionSidecar.Audio;
using CaptionSidecar.Glossaries;
using CaptionSidecar.Realtime;
using CaptionSidecar.RelayOutput;
using CaptionSidecar.YouTube;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Hosting;

/// <summary>Checks that need more than one setting: the openai engine needs a key.</summary>
internal sealed class SidecarOptionsValidator(IOptions<RealtimeOptions> realtime) : IValidateOptions<SidecarOptions>
{
    public ValidateOptionsResult Validate(string? name, SidecarOptions options)
    {
        if (options.Engine == EngineChoice.OpenAi && string.IsNullOrWhiteSpace(realtime.Value.ApiKey))
        {
            return ValidateOptionsResult.Fail(
                "Sidecar:Engine is 'openai' but no API key is set: set OPENAI_API_KEY, pass --api-key, or use --engine test-pattern.");
        }

        return ValidateOptionsResult.Success;
    }
}

/// <summary>Checks that the audio input can be understood, and that an input file exists and is not a folder.</summary>
internal sealed class AudioOptionsValidator : IValidateOptions<AudioOptions>
{
    public ValidateOptionsResult Validate(string? name, AudioOptions options)
    {
        if (AudioInputSpec.Problem(options.Input, out _) is { } problem)
        {
            return ValidateOptionsResult.Fail($"Audio:Input (--input): {problem}");
        }

        return ValidateVoiceGate(options.VoiceGate ?? new VoiceGateOptions());
    }

    private static ValidateOptionsResult ValidateVoiceGate(VoiceGateOptions gate)
    {
        var failures = new List<string>();
        Check(gate.MinimumLevelDbfs is >= -100 and <= -10, "MinimumLevelDbfs", gate.MinimumLevelDbfs, "between -100 and -10 dBFS (default -50; lower hears quieter voices)");
        Check(gate.AboveNoiseFloorDb is >= 3 and <= 40, "AboveNoiseFloorDb", gate.AboveNoiseFloorDb, "between 3 and 40 dB (default 10)");
        Check(gate.OnsetMilliseconds is >= 0 and <= 1000, "OnsetMilliseconds", gate.OnsetMilliseconds, "between 0 and 1000 ms (default 60)");
        Check(gate.PreRollMilliseconds is >= 0 and <= 2000, "PreRollMilliseconds", gate.PreRollMilliseconds, "between 0 and 2000 ms (default 300)");
        Check(gate.HangoverMilliseconds is null or (>= 100 and <= 60_000), "HangoverMilliseconds", gate.HangoverMilliseconds, "unset (derived from the turn detection) or between 100 and 60000 ms; shorter than the server's end-of-turn silence cuts turns");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Check(bool valid, string key, object? value, string range)
        {
            if (!valid)
            {
                failures.Add(string.Create(
                    System.Globalization.CultureInfo.InvariantCulture,
                    $"Audio:VoiceGate:{key} must be {range}, not '{value}'. Fix it in the settings, or turn the gate off with --no-voice-gate."));
            }
        }
    }
}

/// <summary>Checks the Realtime endpoint's form.</summary>
internal sealed class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeOptions options)
    {
        var endpoint = options.Endpoint;
        if (endpoint is null || !endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https" or "ws" or "wss"))
        {
            return ValidateOptionsResult.Fail(
                $"Realtime:Endpoint (--realtime-endpoint) must be an absolute http(s) or ws(s) URL such as https://api.openai.com/v1, not '{endpoint}'.");
        }

        return ValidateGlossary(options);
    }

    /// <summary>The glossary file exists, parses, and fits the transcription prompt's limit with <c>--prompt</c>.</summary>
    private static ValidateOptionsResult ValidateGlossary(RealtimeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.GlossaryFile))
        {
            return ValidateOptionsResult.Success;
        }

        var full = Path.GetFullPath(options.GlossaryFile);
        if (!File.Exists(full))
        {
            return ValidateOptionsResult.Fail($"Realtime:GlossaryFile (--glossary): the file '{full}' does not exist.");
        }

        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ValidateOptionsResult.Fail($"Realtime:GlossaryFile (--glossary): '{full}' cannot be read: {ex.Message}");
        }

        var (_, error) = GlossarySource.Check(full, text, options.Prompt);
        return error is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail($"Realtime:GlossaryFile (--glossary): {error}");
    }
}

/// <summary>
/// Checks the relay output's settings (docs/relay.md): a nats:// or tls:// URL, a valid stream name, credentials given
/// once, a readable credentials file. Nothing to check while no URL is set (the output is off), but a stream name.
/// </summary>
internal sealed class RelayPublisherOptionsValidator : IValidateOptions<RelayPublisherOptions>
{
    public ValidateOptionsResult Validate(string? name, RelayPublisherOptions options) =>
        RelayEndpoint.Problems(options) is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}

/// <summary>Checks the YouTube output's settings: the ingestion URL's form, the language code, the offset and the age limit.</summary>
internal sealed class YouTubeOptionsValidator : IValidateOptions<YouTubeOptions>
{
    public ValidateOptionsResult Validate(string? name, YouTubeOptions options) =>
        YouTubeSettings.Problems(options) is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
