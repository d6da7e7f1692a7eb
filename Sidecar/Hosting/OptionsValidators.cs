using CaptionSidecar.Audio;
using CaptionSidecar.Realtime;
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

/// <summary>Checks that the audio input can be understood, and that an input file exists.</summary>
internal sealed class AudioOptionsValidator : IValidateOptions<AudioOptions>
{
    public ValidateOptionsResult Validate(string? name, AudioOptions options)
    {
        AudioInputSpec spec;
        try
        {
            spec = AudioInputSpec.Parse(options.Input);
        }
        catch (FormatException ex)
        {
            return ValidateOptionsResult.Fail($"Audio:Input (--input): {ex.Message}");
        }

        if (spec.Kind == AudioInputKind.File && !File.Exists(spec.Value))
        {
            return ValidateOptionsResult.Fail($"Audio:Input (--input): the file '{spec.Value}' does not exist.");
        }

        return ValidateOptionsResult.Success;
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

        return ValidateOptionsResult.Success;
    }
}
