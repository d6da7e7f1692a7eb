using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CaptionSidecar.ObsBridge;

/// <summary>Registers the OBS client and caption output.</summary>
public static class ObsBridgeServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ObsClient"/> and <see cref="ObsCaptionOutput"/> as singletons (and <see cref="TimeProvider.System"/>
    /// unless a <see cref="TimeProvider"/> is registered). Options are validated when the types are created; call
    /// <c>Start()</c> on the output. The configure actions run after any other configuration of the same options;
    /// set <see cref="ObsClientOptions.Retry"/> and <see cref="ObsCaptionOutputOptions.Retry"/> there (or with
    /// <c>services.AddOptions&lt;T&gt;().Configure(...)</c>) to use the host's own retry policy. Calling it again adds
    /// only the further configuration.
    /// </summary>
    public static IServiceCollection AddObsBridge(this IServiceCollection services,
        Action<ObsClientOptions>? configureClient = null, Action<ObsCaptionOutputOptions>? configureOutput = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var client = services.AddOptions<ObsClientOptions>();
        if (configureClient is not null)
        {
            client.Configure(configureClient);
        }

        var output = services.AddOptions<ObsCaptionOutputOptions>();
        if (configureOutput is not null)
        {
            output.Configure(configureOutput);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ObsClient>();
        services.TryAddSingleton<ObsCaptionOutput>();
        return services;
    }
}
