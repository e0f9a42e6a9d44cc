#!/usr/bin/env node
// The seed's ECS workflow through the official npm SDK @alicloud/pop-core, unchanged.
//
// pop-core signs with signature v1 (HMAC-SHA1); with `method: 'POST'` every parameter, the
// signature included, travels in an application/x-www-form-urlencoded body and the URL is a bare
// `/`. Two RPCClients (ECS 2014-05-26 and VPC 2016-04-28) point at the simulator's one endpoint.
// The steps and checks mirror ../sdk_workflow.py: errors, spec lookup, stock, price, VPC,
// vswitch, security group, image, RunInstances with ClientToken replay, Running, RunCommand and
// its results, then release in reverse order, each verified by a describe. It owns nothing but
// this script, and never prints the AccessKeySecret.
//
//   node tests/sdk/node/workflow.js --endpoint 127.0.0.1:8080 --access-key-id ID --access-key-secret SECRET
// (or the environment ECSH_SIM_ENDPOINT, ECSH_SIM_ACCESS_KEY_ID, ECSH_SIM_ACCESS_KEY_SECRET).
'use strict';

const crypto = require('crypto');
const RPCClient = require('@alicloud/pop-core').RPCClient;

const TERMINAL = new Set(['Success', 'Failed', 'Invalid', 'Aborted', 'Error', 'Timeout', 'Cancelled', 'Terminated']);
const CORES = 2;
const MEMORY_GIB = 4;
const IMAGE_FAMILY = 'acs:ubuntu_24_04_x64';
const NOT_FOUND_INSTANCE = 'i-ecshsdk0000notfound';
const CLEANUP_WAIT_SECONDS = 60;

class Mismatch extends Error {}

function parseArgs(argv) {
  const opts = {
    endpoint: process.env.ECSH_SIM_ENDPOINT,
    accessKeyId: process.env.ECSH_SIM_ACCESS_KEY_ID,
    accessKeySecret: process.env.ECSH_SIM_ACCESS_KEY_SECRET,
    region: process.env.ECSH_SDK_REGION || 'cn-hangzhou',
    waitSeconds: Number(process.env.ECSH_SDK_WAIT_SECONDS || 120),
    requireExecution: !['', '0', undefined].includes(process.env.ECSH_SDK_REQUIRE_EXECUTION),
  };
  const flags = {
    '--endpoint': 'endpoint', '--access-key-id': 'accessKeyId', '--access-key-secret': 'accessKeySecret',
    '--region': 'region', '--wait-seconds': 'waitSeconds',
  };
  for (let i = 2; i < argv.length; i += 2) {
    if (argv[i] === '--require-execution') {
      opts.requireExecution = true;
      i -= 1;
      continue;
    }
    const key = flags[argv[i]];
    if (!key || argv[i + 1] === undefined) {
      usage(`unknown or incomplete option ${argv[i]}`);
    }
    opts[key] = key === 'waitSeconds' ? Number(argv[i + 1]) : argv[i + 1];
  }
  const missing = ['endpoint', 'accessKeyId', 'accessKeySecret'].filter((k) => !opts[k]);
  if (missing.length) {
    usage(`missing ${missing.join(', ')} (\`ecsh sim --listen 127.0.0.1:8080\` prints all three)`);
  }
  if (!Number.isFinite(opts.waitSeconds) || opts.waitSeconds <= 0) {
    usage('--wait-seconds must be a positive number');
  }
  const host = opts.endpoint.replace(/^http:\/\//, '').replace(/\/$/, '');
  if (host.includes('/') || !host.includes(':')) {
    usage(`--endpoint ${opts.endpoint} must look like 127.0.0.1:PORT or http://127.0.0.1:PORT`);
  }
  opts.url = `http://${host}`;
  return opts;
}

function usage(problem) {
  console.error(`workflow.js: ${problem}\nusage: node workflow.js --endpoint HOST:PORT --access-key-id ID ` +
    '--access-key-secret SECRET [--region R] [--wait-seconds N] [--require-execution]');
  process.exit(2);
}

// ------------------------------------------------------------------------------------------------
// Calling the SDK

class Api {
  constructor(opts, accessKeyId, accessKeySecret) {
    const base = { accessKeyId, accessKeySecret, endpoint: opts.url, opts: { timeout: 30000 } };
    this.opts = opts;
    this.ecsClient = new RPCClient({ ...base, apiVersion: '2014-05-26' });
    this.vpcClient = new RPCClient({ ...base, apiVersion: '2016-04-28' });
  }

  withCredentials(accessKeyId, accessKeySecret) {
    return new Api(this.opts, accessKeyId, accessKeySecret);
  }

  // One POST with a form body; API errors come back as {code, status} thrown objects.
  async call(client, action, params) {
    let response;
    try {
      response = await client.request(action, { RegionId: this.opts.region, ...params }, { method: 'POST', timeout: 30000 });
    } catch (err) {
      if (err.data && err.code) {
        expect(err.data.RequestId, `${action}: the ${err.code} error has no RequestId`);
        const status = err.entry && err.entry.response ? err.entry.response.statusCode : undefined;
        throw Object.assign(new Error(`${err.code} (HTTP ${status}): ${err.data.Message}`),
          { apiCode: err.code, status, requestId: err.data.RequestId });
      }
      throw err;
    }
    // Every answer of the real service carries a RequestId.
    expect(response && response.RequestId, `${action} answered without a RequestId: ${JSON.stringify(response).slice(0, 300)}`);
    return response;
  }

  ecs(action, params = {}) { return this.call(this.ecsClient, action, params); }

  vpc(action, params = {}) { return this.call(this.vpcClient, action, params); }
}

// ------------------------------------------------------------------------------------------------
// Checking and waiting

function expect(condition, what) {
  if (!condition) {
    throw new Mismatch(what);
  }
}

// call() must fail with `code` (or a `code.*` variant when `prefix`), and HTTP `status` when given.
async function expectError(code, call, what, status, prefix = false) {
  let result;
  try {
    result = await call();
  } catch (err) {
    if (!err.apiCode) {
      throw err;
    }
    const matches = err.apiCode === code || (prefix && err.apiCode.startsWith(`${code}.`));
    expect(matches, `${what}: expected error ${code}${prefix ? '[.*]' : ''}, got ${err.message}`);
    expect(status === undefined || err.status === status, `${what}: expected HTTP ${status} with ${code}, got ${err.status}`);
    return err;
  }
  throw new Mismatch(`${what}: expected error ${code}, but the call succeeded with ${JSON.stringify(result)}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls probe() until it returns {done: true, value}; fails after opts.waitSeconds.
async function poll(what, probe, waitSeconds) {
  const deadline = Date.now() + waitSeconds * 1000;
  let delay = 50;
  for (let calls = 1; ; calls++) {
    const { done, value } = await probe();
    if (done) {
      return value;
    }
    if (Date.now() >= deadline) {
      throw new Mismatch(`${what}: still not done after ${waitSeconds}s and ${calls} calls (last seen: ${JSON.stringify(value)})`);
    }
    await sleep(delay);
    delay = Math.min(delay * 1.5, 1000);
  }
}

// Runs call(), retrying while it fails with a code that starts with one of `codes`.
function retryOn(codes, call, what, waitSeconds) {
  return poll(what, async () => {
    try {
      return { done: true, value: await call() };
    } catch (err) {
      if (err.apiCode && codes.some((c) => err.apiCode.startsWith(c))) {
        return { done: false, value: err.message };
      }
      throw err;
    }
  }, waitSeconds);
}

// The list at response[outer][inner], the real service's doubly wrapped list shape.
function items(response, outer, inner) {
  const wrapper = response && response[outer];
  expect(wrapper && Array.isArray(wrapper[inner]), `response has no list ${outer}.${inner}: ${JSON.stringify(response).slice(0, 400)}`);
  return wrapper[inner];
}

function oneStatus(listing, idKey, id) {
  const matches = listing.filter((entry) => entry[idKey] === id);
  expect(matches.length <= 1, `${id} is listed ${matches.length} times`);
  return matches.length ? matches[0].Status : null;
}

async function waitStatus(what, describe, wanted, allowed, waitSeconds) {
  const seen = [];
  return poll(`${what} to become ${wanted}`, async () => {
    const status = await describe();
    if (seen[seen.length - 1] !== status) {
      seen.push(status);
    }
    expect(status === wanted || allowed.includes(status), `${what} went through unexpected status ${status} (${seen.join(' -> ')})`);
    return { done: status === wanted, value: seen };
  }, waitSeconds);
}

const newClientToken = () => `ecsh-sdk-${crypto.randomUUID().replace(/-/g, '')}`;

// ------------------------------------------------------------------------------------------------
// The workflow

async function checkErrors(api, opts, log) {
  const regions = items(await api.ecs('DescribeRegions'), 'Regions', 'Region').map((r) => r.RegionId);
  expect(regions.includes(opts.region), `DescribeRegions does not list ${opts.region}: ${regions}`);
  log(`DescribeRegions lists ${regions.length} regions including ${opts.region}`);

  const badSecret = api.withCredentials(opts.accessKeyId, `${opts.accessKeySecret}-wrong`);
  await expectError('SignatureDoesNotMatch', () => badSecret.ecs('DescribeRegions'), 'a wrong AccessKeySecret', 400);
  log('a wrong AccessKeySecret gives SignatureDoesNotMatch (HTTP 400)');
  const unknownKey = api.withCredentials('LTAIecshsdkunknownkey', opts.accessKeySecret);
  await expectError('InvalidAccessKeyId.NotFound', () => unknownKey.ecs('DescribeRegions'), 'an unknown AccessKeyId', 404);
  log('an unknown AccessKeyId gives InvalidAccessKeyId.NotFound (HTTP 404)');

  await expectError('InvalidInstanceId.NotFound', () => api.ecs('StopInstance', { InstanceId: NOT_FOUND_INSTANCE }),
    'StopInstance on an unknown instance', 404);
  log('StopInstance on an unknown id gives InvalidInstanceId.NotFound (HTTP 404)');
  const found = items(await api.ecs('DescribeInstances', { InstanceIds: JSON.stringify([NOT_FOUND_INSTANCE]) }), 'Instances', 'Instance');
  expect(found.length === 0, `DescribeInstances of an unknown id should list nothing, got ${JSON.stringify(found)}`);
  log('DescribeInstances of an unknown id lists nothing');
}

async function inStock(api, zoneId, instanceType) {
  const response = await api.ecs('DescribeAvailableResource', {
    DestinationResource: 'InstanceType', ZoneId: zoneId, InstanceType: instanceType, InstanceChargeType: 'PostPaid',
  });
  return items(response, 'AvailableZones', 'AvailableZone')
    .filter((zone) => zone.ZoneId === zoneId)
    .flatMap((zone) => items(zone, 'AvailableResources', 'AvailableResource'))
    .flatMap((resource) => items(resource, 'SupportedResources', 'SupportedResource'))
    .some((s) => s.Value === instanceType && s.Status === 'Available');
}

async function pickInstanceType(api, log) {
  const response = await api.ecs('DescribeRecommendInstanceType', {
    Cores: CORES, Memory: MEMORY_GIB, NetworkType: 'vpc', InstanceChargeType: 'PostPaid', PriorityStrategy: 'InventoryFirst',
  });
  const candidates = items(response, 'Data', 'RecommendInstanceType');
  expect(candidates.length > 0, `DescribeRecommendInstanceType recommends nothing for ${CORES} vCPU / ${MEMORY_GIB} GiB`);
  log(`DescribeRecommendInstanceType recommends ${candidates.length} (type, zone) pairs`);
  for (const candidate of candidates) {
    const instanceType = (candidate.InstanceType || {}).InstanceType;
    const zoneId = candidate.ZoneId;
    expect(instanceType && zoneId, `recommendation without InstanceType.InstanceType/ZoneId: ${JSON.stringify(candidate)}`);
    if (await inStock(api, zoneId, instanceType)) {
      log(`DescribeAvailableResource: ${instanceType} is in stock in ${zoneId}`);
      const types = items(await api.ecs('DescribeInstanceTypes', { InstanceTypes: [instanceType] }), 'InstanceTypes', 'InstanceType');
      expect(types.length === 1 && types[0].CpuCoreCount === CORES && Number(types[0].MemorySize) === MEMORY_GIB,
        `DescribeInstanceTypes for ${instanceType}: ${JSON.stringify(types)}, expected ${CORES} vCPU / ${MEMORY_GIB} GiB`);
      log(`DescribeInstanceTypes: ${instanceType} has ${CORES} vCPU and ${MEMORY_GIB} GiB`);
      return { instanceType, zoneId };
    }
    log(`DescribeAvailableResource: ${instanceType} is sold out in ${zoneId}, trying the next`);
  }
  throw new Mismatch('none of the recommended instance types is in stock anywhere');
}

async function quote(api, { instanceType, zoneId }, log) {
  const response = await api.ecs('DescribePrice', {
    InstanceType: instanceType, ZoneId: zoneId, 'SystemDisk.Category': 'cloud_essd', 'SystemDisk.Size': 40,
    PriceUnit: 'Hour', Period: 1,
  });
  const price = (response.PriceInfo || {}).Price || {};
  expect(typeof price.TradePrice === 'number' && price.TradePrice > 0, `DescribePrice has no positive TradePrice: ${JSON.stringify(price)}`);
  expect(['CNY', 'USD'].includes(price.Currency), `DescribePrice currency ${price.Currency}`);
  log(`DescribePrice: ${instanceType} costs ${price.TradePrice} ${price.Currency}/hour`);
}

async function createNetwork(api, opts, resources, zoneId, log) {
  const { VpcId: vpcId } = await api.vpc('CreateVpc', { CidrBlock: '192.168.0.0/16', VpcName: 'ecsh-sdk-vpc', ClientToken: newClientToken() });
  expect(vpcId && vpcId.startsWith('vpc-'), `CreateVpc returned VpcId ${vpcId}`);
  resources.push(['VPC', vpcId, () => releaseVpc(api, opts, vpcId)]);
  const vpcStatus = async () => oneStatus(items(await api.vpc('DescribeVpcs', { VpcId: vpcId }), 'Vpcs', 'Vpc'), 'VpcId', vpcId);
  let seen = await waitStatus(`VPC ${vpcId}`, vpcStatus, 'Available', ['Pending'], opts.waitSeconds);
  log(`CreateVpc ${vpcId}: ${seen.join(' -> ')}`);

  const { VSwitchId: vswitchId } = await api.vpc('CreateVSwitch', {
    VpcId: vpcId, ZoneId: zoneId, CidrBlock: '192.168.1.0/24', VSwitchName: 'ecsh-sdk-vsw',
  });
  expect(vswitchId && vswitchId.startsWith('vsw-'), `CreateVSwitch returned VSwitchId ${vswitchId}`);
  resources.push(['VSwitch', vswitchId, () => releaseVSwitch(api, opts, vswitchId)]);
  const vswStatus = async () => oneStatus(items(await api.vpc('DescribeVSwitches', { VSwitchId: vswitchId }), 'VSwitches', 'VSwitch'), 'VSwitchId', vswitchId);
  seen = await waitStatus(`VSwitch ${vswitchId}`, vswStatus, 'Available', ['Pending'], opts.waitSeconds);
  log(`CreateVSwitch ${vswitchId} in ${zoneId}: ${seen.join(' -> ')}`);
  return { vpcId, vswitchId };
}

async function createSecurityGroup(api, opts, resources, vpcId, log) {
  const { SecurityGroupId: sgId } = await api.ecs('CreateSecurityGroup', { VpcId: vpcId, SecurityGroupName: 'ecsh-sdk-sg' });
  expect(sgId && sgId.startsWith('sg-'), `CreateSecurityGroup returned ${sgId}`);
  resources.push(['security group', sgId, () => releaseSecurityGroup(api, opts, sgId)]);
  await api.ecs('AuthorizeSecurityGroup', {
    SecurityGroupId: sgId, Permissions: [{ IpProtocol: 'tcp', PortRange: '80/80', SourceCidrIp: '0.0.0.0/0' }],
  });
  const rules = items(await api.ecs('DescribeSecurityGroupAttribute', { SecurityGroupId: sgId }), 'Permissions', 'Permission');
  expect(rules.some((r) => r.PortRange === '80/80' && String(r.IpProtocol).toLowerCase() === 'tcp' && r.SourceCidrIp === '0.0.0.0/0'),
    `AuthorizeSecurityGroup 80/80 from 0.0.0.0/0 is not in the group's rules: ${JSON.stringify(rules)}`);
  log(`CreateSecurityGroup ${sgId} + AuthorizeSecurityGroup tcp 80/80 (seen in its rules)`);
  return sgId;
}

async function findImage(api, log) {
  const images = items(await api.ecs('DescribeImages', { ImageFamily: IMAGE_FAMILY }), 'Images', 'Image');
  expect(images.length > 0 && images[0].ImageId, `DescribeImages finds no image in family ${IMAGE_FAMILY}`);
  log(`DescribeImages ImageFamily=${IMAGE_FAMILY}: ${images[0].ImageId}`);
  return images[0].ImageId;
}

// What the real service refuses while the instance runs, with its codes and statuses.
async function checkRefusals(api, runParams, ids, log) {
  const dryTag = [{ Key: 'ecsh-sdk-run', Value: 'dry-run' }];
  const dry = { ...runParams, ClientToken: newClientToken(), InstanceName: 'ecsh-sdk-dry-run', Tag: dryTag, DryRun: true };
  await expectError('DryRunOperation', () => api.ecs('RunInstances', dry), 'RunInstances with DryRun=true', 400);
  const created = items(await api.ecs('DescribeInstances', { Tag: dryTag }), 'Instances', 'Instance');
  expect(created.length === 0, `RunInstances with DryRun=true created ${JSON.stringify(created)}`);
  log('RunInstances with DryRun=true answers DryRunOperation (HTTP 400) and creates nothing');
  await expectError('IncorrectInstanceStatus', () => api.ecs('DeleteInstances', { InstanceId: [ids.instance], Force: false }),
    'DeleteInstances without Force on a Running instance', 403);
  log('DeleteInstances without Force on a Running instance gives IncorrectInstanceStatus (HTTP 403)');
  await expectError('DependencyViolation', () => api.ecs('DeleteSecurityGroup', { SecurityGroupId: ids.securityGroup }),
    'DeleteSecurityGroup while an instance is in it', 403);
  log('DeleteSecurityGroup while an instance is in it gives DependencyViolation (HTTP 403)');
  const err = await expectError('DependencyViolation', () => api.vpc('DeleteVpc', { VpcId: ids.vpc }),
    'DeleteVpc while it holds a vswitch', undefined, true);
  log(`DeleteVpc while it holds a vswitch gives ${err.apiCode} (HTTP ${err.status})`);
}

async function instanceRecord(api, instanceId) {
  const listing = items(await api.ecs('DescribeInstances', { InstanceIds: JSON.stringify([instanceId]) }), 'Instances', 'Instance');
  expect(listing.length <= 1, `DescribeInstances lists ${instanceId} ${listing.length} times`);
  return listing.length ? listing[0] : null;
}

async function launch(api, opts, resources, spec, log) {
  const runTag = crypto.randomUUID().slice(0, 12);
  const params = {
    InstanceType: spec.instanceType, ZoneId: spec.zoneId, ImageId: spec.imageId, VSwitchId: spec.vswitchId,
    SecurityGroupId: spec.sgId, InstanceName: 'ecsh-sdk-instance', 'SystemDisk.Category': 'cloud_essd',
    'SystemDisk.Size': 40, InternetMaxBandwidthOut: 0, InstanceChargeType: 'PostPaid', Amount: 1,
    ClientToken: newClientToken(), Tag: [{ Key: 'ecsh-sdk-run', Value: runTag }],
  };
  const first = items(await api.ecs('RunInstances', params), 'InstanceIdSets', 'InstanceIdSet');
  expect(first.length === 1 && String(first[0]).startsWith('i-'), `RunInstances returned ${JSON.stringify(first)}`);
  const instanceId = first[0];
  resources.push(['instance', instanceId, () => releaseInstance(api, opts, instanceId)]);
  log(`RunInstances (ClientToken ${params.ClientToken}): ${instanceId}`);

  const replay = items(await api.ecs('RunInstances', params), 'InstanceIdSets', 'InstanceIdSet');
  expect(JSON.stringify(replay) === JSON.stringify(first), `replaying RunInstances with the same ClientToken gave ${replay}, not ${first}`);
  log('RunInstances replayed with the same ClientToken returns the same instance id');
  await expectError('IdempotentParameterMismatch', () => api.ecs('RunInstances', { ...params, InstanceName: 'ecsh-sdk-other-name' }),
    'RunInstances with a used ClientToken and other parameters');
  log('the same ClientToken with other parameters gives IdempotentParameterMismatch');

  const tagged = items(await api.ecs('DescribeInstances', { Tag: [{ Key: 'ecsh-sdk-run', Value: runTag }] }), 'Instances', 'Instance');
  expect(tagged.length === 1 && tagged[0].InstanceId === instanceId, `DescribeInstances by tag lists ${JSON.stringify(tagged)}`);
  log('DescribeInstances filtered by the run\'s tag lists exactly that instance');
  return { instanceId, runParams: params };
}

async function waitRunning(api, opts, instanceId, expected, log) {
  const status = async () => ((await instanceRecord(api, instanceId)) || {}).Status;
  // undefined: not listed yet, which the real service allows for a few seconds after RunInstances.
  const seen = await waitStatus(`instance ${instanceId}`, status, 'Running', [undefined, 'Pending', 'Starting'], opts.waitSeconds);
  log(`DescribeInstances ${instanceId}: ${seen.join(' -> ')}`);
  const record = await instanceRecord(api, instanceId);
  const vpc = record.VpcAttributes || {};
  const groups = (record.SecurityGroupIds || {}).SecurityGroupId || [];
  const actual = {
    InstanceType: record.InstanceType, ZoneId: record.ZoneId, ImageId: record.ImageId,
    VpcId: vpc.VpcId, VSwitchId: vpc.VSwitchId, SecurityGroupId: groups[0],
  };
  expect(JSON.stringify(actual) === JSON.stringify(expected), `DescribeInstances shows ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  log('the Running instance has the type, zone, image, VPC, vswitch and security group asked for');
}

function decodeOutput(encoded, invokeId) {
  expect(typeof encoded === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded), `invocation ${invokeId} Output is not Base64: ${encoded}`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

async function runCommand(api, opts, instanceId, log) {
  await poll(`Cloud Assistant on ${instanceId} to come online`, async () => {
    const listing = items(await api.ecs('DescribeCloudAssistantStatus', { InstanceId: [instanceId] }),
      'InstanceCloudAssistantStatusSet', 'InstanceCloudAssistantStatus');
    const online = listing.filter((s) => s.InstanceId === instanceId).map((s) => s.CloudAssistantStatus);
    return { done: JSON.stringify(online) === '["true"]', value: online };
  }, opts.waitSeconds);
  log('DescribeCloudAssistantStatus: the agent is online');

  const marker = `ecsh-sdk-${crypto.randomUUID().slice(0, 12)}`;
  const started = await api.ecs('RunCommand', {
    InstanceId: [instanceId], Type: 'RunShellScript', CommandContent: `echo ${marker}`, Timeout: 60,
  });
  const invokeId = started.InvokeId;
  expect(invokeId && invokeId.startsWith('t-'), `RunCommand returned ${JSON.stringify(started)}`);
  const result = await poll(`invocation ${invokeId} to finish`, async () => {
    const invocation = (await api.ecs('DescribeInvocationResults', { InvokeId: invokeId })).Invocation || {};
    const mine = items(invocation, 'InvocationResults', 'InvocationResult').filter((r) => r.InstanceId === instanceId);
    const status = mine.length ? mine[0].InvocationStatus : null;
    return TERMINAL.has(status) ? { done: true, value: mine[0] } : { done: false, value: status };
  }, opts.waitSeconds);
  expect(result.InvocationStatus === 'Success' && result.ExitCode === 0,
    `invocation ${invokeId} ended ${result.InvocationStatus} exit ${result.ExitCode}: ${result.ErrorCode} ${result.ErrorInfo}`);
  const output = decodeOutput(result.Output, invokeId);
  expect(output.length > 0, `invocation ${invokeId} has an empty Output`);
  expect(!opts.requireExecution || output.trim() === marker, `decoded Output ${JSON.stringify(output)} is not the output of \`echo ${marker}\``);
  log(`RunCommand ${invokeId}: Success, exit 0, decoded Output ${JSON.stringify(output.trim().slice(0, 80))}`);

  const summary = items(await api.ecs('DescribeInvocations', { InvokeId: invokeId, IncludeOutput: true }), 'Invocations', 'Invocation');
  expect(summary.length === 1 && summary[0].InvocationStatus === 'Success', `DescribeInvocations for ${invokeId}: ${JSON.stringify(summary)}`);
  const outputs = items(summary[0], 'InvokeInstances', 'InvokeInstance')
    .filter((i) => i.InstanceId === instanceId).map((i) => decodeOutput(i.Output, invokeId));
  expect(outputs.length === 1 && outputs[0] === output, `DescribeInvocations(IncludeOutput) output ${JSON.stringify(outputs)} differs`);
  log('DescribeInvocations agrees: Success with the same output');
}

// ------------------------------------------------------------------------------------------------
// Releases, each verified by a describe

const gone = (value) => ({ done: value === null || value === undefined, value });

async function releaseInstance(api, opts, instanceId) {
  await retryOn(['IncorrectInstanceStatus.Initializing'], async () => {
    try {
      return await api.ecs('DeleteInstances', { InstanceId: [instanceId], Force: true });
    } catch (err) {
      if (err.apiCode === 'InvalidInstanceId.NotFound') {
        return null;
      }
      throw err;
    }
  }, `DeleteInstances ${instanceId}`, opts.waitSeconds);
  await poll(`instance ${instanceId} to disappear from DescribeInstances`, async () => gone(await instanceRecord(api, instanceId)), opts.waitSeconds);
}

async function releaseSecurityGroup(api, opts, sgId) {
  await retryOn(['DependencyViolation'], () => api.ecs('DeleteSecurityGroup', { SecurityGroupId: sgId }), `DeleteSecurityGroup ${sgId}`, opts.waitSeconds);
  await poll(`security group ${sgId} to disappear`, async () => {
    const listed = items(await api.ecs('DescribeSecurityGroups', { SecurityGroupIds: JSON.stringify([sgId]) }), 'SecurityGroups', 'SecurityGroup')
      .filter((g) => g.SecurityGroupId === sgId);
    return gone(listed.length ? listed : null);
  }, opts.waitSeconds);
}

async function releaseVSwitch(api, opts, vswitchId) {
  await retryOn(['DependencyViolation', 'IncorrectVSwitchStatus', 'OperationConflict'],
    () => api.vpc('DeleteVSwitch', { VSwitchId: vswitchId }), `DeleteVSwitch ${vswitchId}`, opts.waitSeconds);
  await poll(`vswitch ${vswitchId} to disappear`, async () => gone(oneStatus(
    items(await api.vpc('DescribeVSwitches', { VSwitchId: vswitchId }), 'VSwitches', 'VSwitch'), 'VSwitchId', vswitchId)), opts.waitSeconds);
}

async function releaseVpc(api, opts, vpcId) {
  await retryOn(['DependencyViolation', 'IncorrectVpcStatus', 'OperationConflict'],
    () => api.vpc('DeleteVpc', { VpcId: vpcId }), `DeleteVpc ${vpcId}`, opts.waitSeconds);
  await poll(`VPC ${vpcId} to disappear`, async () => gone(oneStatus(
    items(await api.vpc('DescribeVpcs', { VpcId: vpcId }), 'Vpcs', 'Vpc'), 'VpcId', vpcId)), opts.waitSeconds);
}

// Releases newest first; strict on success, best effort (naming leftovers) after a failure.
async function releaseAll(resources, log, strict) {
  while (resources.length) {
    const [kind, id, release] = resources.pop();
    try {
      await release();
      log(`released ${kind} ${id}, verified gone by a describe`);
    } catch (err) {
      if (strict) {
        throw err;
      }
      console.error(`cleanup: ${kind} ${id} may be left behind: ${err.message}`);
    }
  }
}

async function main() {
  const opts = parseArgs(process.argv);
  const api = new Api(opts, opts.accessKeyId, opts.accessKeySecret);
  const resources = [];
  let checks = 0;
  const log = (line) => {
    checks += 1;
    console.log(`  ok: ${line}`);
  };
  console.log(`@alicloud/pop-core (signature v1, POST form body): workflow against ${opts.url} in ${opts.region}`);
  try {
    await checkErrors(api, opts, log);
    const spec = await pickInstanceType(api, log);
    await quote(api, spec, log);
    const { vpcId, vswitchId } = await createNetwork(api, opts, resources, spec.zoneId, log);
    const sgId = await createSecurityGroup(api, opts, resources, vpcId, log);
    const imageId = await findImage(api, log);
    const { instanceId, runParams } = await launch(api, opts, resources, { ...spec, imageId, vswitchId, sgId }, log);
    await waitRunning(api, opts, instanceId, {
      InstanceType: spec.instanceType, ZoneId: spec.zoneId, ImageId: imageId, VpcId: vpcId, VSwitchId: vswitchId, SecurityGroupId: sgId,
    }, log);
    await checkRefusals(api, runParams, { instance: instanceId, securityGroup: sgId, vpc: vpcId }, log);
    await runCommand(api, opts, instanceId, log);
    await releaseAll(resources, log, true);
  } catch (err) {
    console.error(`FAIL (@alicloud/pop-core): ${err instanceof Mismatch ? '' : 'the SDK raised '}${err.message}`);
    if (!(err instanceof Mismatch) && !err.apiCode) {
      console.error(err.stack);
    }
    // Cleanup deserves a fair wait even when a too-short --wait-seconds caused the failure.
    opts.waitSeconds = Math.max(opts.waitSeconds, CLEANUP_WAIT_SECONDS);
    await releaseAll(resources, log, false);
    process.exit(1);
  }
  console.log(`PASS (@alicloud/pop-core): ${checks} checks passed; everything created was released and verified gone`);
}

main();
