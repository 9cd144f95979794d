using Scalar.AspNetCore;
using UserService.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRedisClient(connectionName: "cache");
builder.Services.AddProblemDetails();
// A body that does not parse is the caller's mistake: answer 400 with problem details in every
// environment, instead of an exception that the handler below would turn into a 500.
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = false);
builder.Services.AddOpenApi();
builder.AddUsers();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseOutputCache();

app.MapOpenApi();
if (app.Environment.IsDevelopment())
{
    app.MapScalarApiReference();
}

app.MapUsersApi();

app.Run();
